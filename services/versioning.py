"""The one version rule every consumer of `challenges` and `companies` applies (pure: no Kafka, no I/O).

An entity event carries a version chosen by its publisher. Everyone who keeps state per entity id
(the worker's shard tables, the ingest API's version view, the inbox and the notifier) decides the
same way what an incoming version means:

- no version known yet: NEW; a higher version: REPLACE (it wins, whatever it says);
- a lower version: STALE (ignored: the log was replayed or a publisher raced);
- the same version: DUPLICATE (a redelivery; what to do with it is the caller's own concern: the
  worker re-sends outputs not yet confirmed, the status views apply it again, which changes nothing).

A tombstone has no version: it erases the entity but its last version is remembered, so a replayed
older event stays ignored. Closing (challenge `closed`, company `withdrawn`, or a tombstone) hides
the matches of every version up to the closing one for good, even if the entity is re-opened later
with a newer version (whose new matches are shown): see `Closure`.

Where the callers legitimately differ stays with them: the ingest API turns STALE/DUPLICATE into a
409 conflict for an explicit version, the worker also skips a DUPLICATE whose outputs were confirmed,
and the merge stage skips a DUPLICATE whose ranking is already done.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Decision(Enum):
    NEW = "new"
    REPLACE = "replace"
    STALE = "stale"
    DUPLICATE = "duplicate"

    @property
    def wins(self) -> bool:
        """True when the incoming version becomes the current one."""
        return self in (Decision.NEW, Decision.REPLACE)


def decide(previous: int | None, incoming: int) -> Decision:
    """What an incoming version means given the last version applied (None: none applied yet)."""
    if previous is None:
        return Decision.NEW
    if incoming > previous:
        return Decision.REPLACE
    if incoming < previous:
        return Decision.STALE
    return Decision.DUPLICATE


@dataclass(frozen=True, slots=True)
class Closure:
    """Open/closed state of one entity, as far as its matches are concerned.

    `version` is the highest version seen; `upto` the highest version that was closed: matches of
    versions up to it are stale for good. Stored as `{"closed", "upto", "version"}` (notifier table).
    """

    closed: bool = False
    upto: int = 0
    version: int = 0

    def accepts(self, version: int | None) -> bool:
        """False for an older event (stale): it changes nothing. A tombstone (None) is always applied."""
        return version is None or decide(self.version, version) is not Decision.STALE

    def apply(self, version: int | None, closed: bool) -> Closure:
        """The state after one event; `version` None is a tombstone. An older event changes nothing."""
        if not self.accepts(version):
            return self
        current = self.version if version is None else version
        if closed:
            return Closure(True, max(self.upto, current), current)
        return Closure(False, self.upto, current)

    def hides(self, version: int) -> bool:
        """True when a match made from this version of the entity must no longer be shown or sent."""
        return self.closed or version <= self.upto

    def to_dict(self) -> dict[str, bool | int]:
        return {"closed": self.closed, "upto": self.upto, "version": self.version}

    @classmethod
    def from_dict(cls, data: dict | None) -> Closure:
        if not data:
            return cls()
        return cls(bool(data["closed"]), int(data["upto"]), int(data["version"]))
