"""The Cplus loyalty programme's connector for dsar: what the programme holds about a
person (memberships, points, rewards), exported, erased and corrected on dsar's request.

dsar finds it through the `dsar.connectors` entry point in pyproject.toml; the connector
itself is `dsar_loyalty.connector.LoyaltyConnector`, the tables it reads are in
`dsar_loyalty.tables`.
"""
