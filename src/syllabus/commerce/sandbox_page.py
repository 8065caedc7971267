"""The sandbox's payment page: a small HTML form (no script) under a policy of its own
that lets the form post to this origin and nothing else."""

import html
import uuid

from syllabus.commerce.models import Payment

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def page(*, payment: Payment, title: str, token: str) -> str:
    """The form posts back to this page's own URL (right behind any path prefix)."""
    amount = f"{payment.amount_minor / 100:.2f} {payment.currency}"
    state = (
        "<p>Choose what the sandbox answers.</p>"
        '<form method="post">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        '<button name="action" value="pay">Pay</button> '
        '<button name="action" value="decline">Decline</button></form>'
        if payment.status == "pending"
        else f"<p>This payment is <strong>{html.escape(payment.status)}</strong>.</p>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sandbox payment</title>"
        "<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}</style>"
        "</head><body><h1>Sandbox payment</h1>"
        "<p>No money moves: this provider exists for development and tests only.</p>"
        f"<p><strong>{html.escape(title)}</strong>: {html.escape(amount)}</p>"
        f"<p>Payment <code>{uuid.UUID(str(payment.id))}</code></p>{state}</body></html>"
    )
