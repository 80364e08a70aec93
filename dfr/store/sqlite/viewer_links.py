"""Officer viewer links in SQLite (table ``viewer_links``, digests only):
:class:`dfr.auth.viewer_links.ViewerLinkStore`."""

from __future__ import annotations

from datetime import datetime

from dfr.auth.viewer_links import ViewerLink
from dfr.store.sqlite.database import Database
from dfr.store.sqlite.rows import Table

VIEWER_LINKS = Table.of("viewer_links", ViewerLink)


class SqliteViewerLinks(Database):
    async def viewer_link(self, link_id: str) -> ViewerLink | None:
        return await self._fetch_one(
            VIEWER_LINKS, "SELECT * FROM viewer_links WHERE id = ?", (link_id,)
        )

    async def viewer_links(self) -> list[ViewerLink]:
        return await self._fetch_all(
            VIEWER_LINKS, "SELECT * FROM viewer_links ORDER BY created_at, id"
        )

    async def insert_viewer_link(self, link: ViewerLink) -> None:
        await self._execute(VIEWER_LINKS.insert_sql(), VIEWER_LINKS.to_row(link))

    async def revoke_viewer_link(self, link_id: str, at: datetime, by: str) -> bool:
        cursor = await self._execute(
            "UPDATE viewer_links SET revoked_at = ?, revoked_by = ? "
            "WHERE id = ? AND revoked_at IS NULL",
            (at.isoformat(), by, link_id),
        )
        return cursor.rowcount == 1
