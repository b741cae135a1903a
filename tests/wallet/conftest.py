from tests.wallet.test_online_providers import keys  # noqa: F401  (payment providers with local keys)
