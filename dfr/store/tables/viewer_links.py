"""Officer viewer links (table ``viewer_links``, digests only):
:class:`dfr.auth.viewer_links.ViewerLinkStore`."""

from __future__ import annotations

from datetime import datetime

from dfr.auth.viewer_links import ViewerLink
from dfr.store.database import Database
from dfr.store.rows import Table

VIEWER_LINKS = Table.of("viewer_links", ViewerLink)


class StoredViewerLinks(Database):
    async def viewer_link(self, link_id: str) -> ViewerLink | None:
        return await self._fetch_one(
            VIEWER_LINKS, "SELECT * FROM viewer_links WHERE id = ?", (link_id,)
        )

    async def viewer_links(self) -> list[ViewerLink]:
        return await self._fetch_all(
            VIEWER_LINKS, "SELECT * FROM viewer_links ORDER BY created_at, id"
        )

    async def insert_viewer_link(self, link: ViewerLink) -> None:
        await self._execute(VIEWER_LINKS.insert_sql(), self._row(VIEWER_LINKS, link))

    async def revoke_viewer_link(self, link_id: str, at: datetime, by: str) -> bool:
        changed = await self._execute(
            "UPDATE viewer_links SET revoked_at = ?, revoked_by = ? "
            "WHERE id = ? AND revoked_at IS NULL",
            (self.dialect.time(at), by, link_id),
        )
        return changed == 1
