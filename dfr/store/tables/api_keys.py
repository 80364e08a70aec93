"""API keys (table ``api_keys``, digests only): :class:`dfr.auth.api_keys.ApiKeyStore`."""

from __future__ import annotations

from datetime import datetime

from dfr.auth.api_keys import ApiKey
from dfr.store.database import Database
from dfr.store.rows import Table

API_KEYS = Table.of("api_keys", ApiKey)


class StoredApiKeys(Database):
    async def api_key(self, key_id: str) -> ApiKey | None:
        return await self._fetch_one(API_KEYS, "SELECT * FROM api_keys WHERE id = ?", (key_id,))

    async def api_keys(self) -> list[ApiKey]:
        return await self._fetch_all(API_KEYS, "SELECT * FROM api_keys ORDER BY created_at, id")

    async def insert_api_key(self, key: ApiKey) -> None:
        await self._execute(API_KEYS.insert_sql(), self._row(API_KEYS, key))

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        changed = await self._execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (self.dialect.time(at), key_id),
        )
        return changed == 1

    async def touch_api_key(self, key_id: str, at: datetime) -> None:
        await self._execute(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (self.dialect.time(at), key_id)
        )
