"""The tables of slack_sdk's SQLAlchemy installation and state stores (OAuth installs, bot/oauth.py),
declared by slack_sdk itself and joined to Base.metadata, so that the schema test holds migration
0015 to exactly what the stores read and write."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

from bot.db.models import Base

installations = AsyncSQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, AsyncSQLAlchemyInstallationStore.default_installations_table_name
)
bots = AsyncSQLAlchemyInstallationStore.build_bots_table(
    Base.metadata, AsyncSQLAlchemyInstallationStore.default_bots_table_name
)
oauth_states = AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, AsyncSQLAlchemyOAuthStateStore.default_table_name
)
