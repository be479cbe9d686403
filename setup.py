# The spec lives in spec/ (the contract's home in the repository) but installs as the package
# ``ragen_spec``; that mapping is the one thing pyproject.toml cannot say next to package discovery.
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["mockserver*", "conformance*", "loadtests*"]), "ragen_spec"],
    package_dir={"ragen_spec": "spec"},
    package_data={"ragen_spec": ["*.yaml"], "mockserver": ["**/*.yaml", "static/*"], "loadtests": ["*.py"]},
)
