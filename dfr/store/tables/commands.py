"""Pilot and system commands (table ``commands``): each stored ``pending``
before it is sent, and finished with the vehicle's answer (or ``unknown``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from dfr.records import CommandRecord, CommandState
from dfr.store.database import Database
from dfr.store.rows import Table

COMMANDS = Table.of("commands", CommandRecord)


class StoredCommands(Database):
    async def add_command(
        self,
        *,
        flight_id: str | None,
        drone_id: str,
        type: str,
        params: dict[str, Any],
        issued_by: str,
        issued_at: datetime,
    ) -> CommandRecord:
        command = CommandRecord(
            id=0,  # given by the database
            flight_id=flight_id,
            drone_id=drone_id,
            type=type,
            params=params,
            issued_at=issued_at,
            issued_by=issued_by,
            state=CommandState.PENDING,
            result="",
            finished_at=None,
        )
        return replace(command, id=await self._add(COMMANDS, command))

    async def finish_command(
        self, command_id: int, state: CommandState, result: str, at: datetime
    ) -> None:
        await self._execute(
            "UPDATE commands SET state = ?, result = ?, finished_at = ? WHERE id = ?",
            (state.value, result, self.dialect.time(at), command_id),
        )

    async def list_commands(
        self, *, flight_id: str | None = None, state: CommandState | None = None
    ) -> list[CommandRecord]:
        sql = "SELECT * FROM commands WHERE 1=1"
        args: list[Any] = []
        if flight_id is not None:
            sql += " AND flight_id = ?"
            args.append(flight_id)
        if state is not None:
            sql += " AND state = ?"
            args.append(state.value)
        sql += " ORDER BY id"
        return await self._fetch_all(COMMANDS, sql, args)
