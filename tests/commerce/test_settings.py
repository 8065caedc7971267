"""Payment settings: a provider needs both halves of its pair, the sandbox never runs in
prod, and the providers offered follow the settings."""

import pytest

from syllabus.config import ConfigError, load_settings

PROD = {
    "_env_file": None,
    "env": "prod",
    "postgres_url": "postgresql://app@db/syllabus",
    "mongo_url": "mongodb://mongo/syllabus",
    "jwt_secret": "s" * 40,
    "public_base_url": "https://learn.example",
}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"stripe_secret_key": "sk_live_x"}, "SYLLABUS_STRIPE_WEBHOOK_SECRET: set together"),
        ({"stripe_webhook_secret": "whsec_x"}, "SYLLABUS_STRIPE_WEBHOOK_SECRET: set together"),
        ({"yookassa_shop_id": "1"}, "SYLLABUS_YOOKASSA_SECRET_KEY: set together"),
        ({"sandbox_payments": True}, "SYLLABUS_SANDBOX_PAYMENTS: the sandbox payment provider"),
        ({"payment_return_origins": "https://a.example/path"}, "SYLLABUS_PAYMENT_RETURN_ORIGINS"),
        ({"payment_return_origins": "*"}, "SYLLABUS_PAYMENT_RETURN_ORIGINS"),
        ({"yookassa_notification_ips": "1.2.3.4,nope"}, "SYLLABUS_YOOKASSA_NOTIFICATION_IPS"),
    ],
)
def test_half_a_configuration_is_refused_in_one_line(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**PROD, **overrides)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(message), lines


def test_the_providers_offered_follow_the_settings() -> None:
    assert load_settings(**PROD).payment_providers == ()
    both = load_settings(
        **PROD,
        stripe_secret_key="sk_live_x",
        stripe_webhook_secret="whsec_x",
        yookassa_shop_id="1",
        yookassa_secret_key="y",
        payment_return_origins="https://shop.example,https://learn.example",
    )
    assert both.payment_providers == ("stripe", "yookassa")
    assert both.return_origins == ["https://shop.example", "https://learn.example"]
    dev = load_settings(_env_file=None, env="dev")
    assert dev.payment_providers == ("sandbox",)
    assert dev.return_origins == ["http://127.0.0.1:8000"]
