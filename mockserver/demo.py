"""The demo organization served when no ``--config`` is given: fixed, documented ids and keys."""

from __future__ import annotations

from mockserver.config import AssistantSeed, KeySpec, MockConfig, OrgSpec, Rule, Snippet

__all__ = [
    "CHAT_ONLY_KEY",
    "DEACTIVATED_KEY",
    "DEBUG_KEY",
    "DEMO_ORG",
    "KEY",
    "OTHER_ASSISTANT",
    "OTHER_KEY",
    "OTHER_ORG",
    "SALES_ASSISTANT",
    "SALES_KEY",
    "SUPPORT_ASSISTANT",
    "demo_config",
]

DEMO_ORG = "org-demo"
OTHER_ORG = "org-other"
SUPPORT_ASSISTANT = "asst-00000000-0000-4000-8000-000000000001"
OTHER_ASSISTANT = "asst-00000000-0000-4000-8000-000000000002"
SALES_ASSISTANT = "asst-00000000-0000-4000-8000-000000000003"

KEY = "rg-demo-key"
DEBUG_KEY = "rg-demo-debug"
DEACTIVATED_KEY = "rg-demo-deactivated"
CHAT_ONLY_KEY = "rg-demo-chat-only"
SALES_KEY = "rg-demo-sales"
OTHER_KEY = "rg-other-key"

MODEL = "gpt-5.4"

_SUPPORT = AssistantSeed(
    id=SUPPORT_ASSISTANT,
    name="Demo Support",
    instructions="You are the support assistant of Demo Shop. Respond concisely. If unsure, say so.",
    created_at=1744664400,
    snippets=(
        Snippet(
            "Refund policy",
            "Our refund policy allows returns within 30 days of purchase. Refunds go back to the "
            "original payment method within 5 business days once the returned item arrives.",
        ),
        Snippet(
            "Onboarding process",
            "Onboarding takes three steps: create your workspace, invite your team, then connect your "
            "data sources. A customer success manager walks new accounts through the process in the "
            "first week.",
        ),
        Snippet(
            "Shipping",
            "Orders ship within 2 business days. Standard shipping takes 3 to 5 days; express shipping "
            "delivers the next business day. Tracking links are emailed when the order ships.",
        ),
    ),
    rules=(
        Rule(
            answer="I am handing you over to a human agent now. Please hold on.", contains="talk to a human"
        ),
    ),
    fallback="I could not find that in the Demo Shop knowledge base. Please contact support@demo.example.",
)

_SALES = AssistantSeed(
    id=SALES_ASSISTANT,
    name="Demo Sales",
    instructions="You are the sales assistant of Demo Shop.",
    created_at=1744664460,
    snippets=(
        Snippet(
            "Pricing plans",
            "Demo Shop has three plans: Starter at 19 USD a month, Team at 49 USD a month and "
            "Enterprise with custom pricing.",
        ),
        Snippet("Free trial", "Every plan starts with a 14-day free trial, no credit card required."),
    ),
)

_OTHER = AssistantSeed(
    id=OTHER_ASSISTANT,
    name="Other Org Bot",
    instructions="You answer questions about Other Org.",
    created_at=1744664430,
    snippets=(Snippet("Office hours", "Other Org is open Monday to Friday, 9:00 to 17:00 CET."),),
)


def demo_config(model: str = MODEL) -> MockConfig:
    return MockConfig(
        orgs=(
            OrgSpec(id=DEMO_ORG, model=model, assistants=(_SUPPORT, _SALES)),
            OrgSpec(id=OTHER_ORG, model=model, assistants=(_OTHER,)),
        ),
        keys=(
            KeySpec(key=KEY, org_id=DEMO_ORG, assistant_id=SUPPORT_ASSISTANT),
            KeySpec(key=DEBUG_KEY, org_id=DEMO_ORG, assistant_id=SUPPORT_ASSISTANT, debug=True),
            KeySpec(key=DEACTIVATED_KEY, org_id=DEMO_ORG, assistant_id=SUPPORT_ASSISTANT, active=False),
            KeySpec(
                key=CHAT_ONLY_KEY, org_id=DEMO_ORG, assistant_id=SUPPORT_ASSISTANT, scopes=frozenset({"chat"})
            ),
            KeySpec(key=SALES_KEY, org_id=DEMO_ORG, assistant_id=SALES_ASSISTANT),
            KeySpec(key=OTHER_KEY, org_id=OTHER_ORG, assistant_id=OTHER_ASSISTANT),
        ),
    )
