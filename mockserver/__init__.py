"""An aiohttp mock of the Ragen API, faithful to spec/openapi.yaml."""
