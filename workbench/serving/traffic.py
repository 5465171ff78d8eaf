"""Which model answers a record: the champion, a canary share of the traffic, a shadow; following aliases.

- **canary**: a fixed share of records goes to the challenger, chosen by a
  stable hash of the record's id (:func:`canary_bucket`), so the same id
  always meets the same model (records without an id are drawn at random);
- **shadow**: the challenger also scores every record, off the response
  path (the server queues its rows and answers without waiting); only the
  log sees its answers;
- **blue/green**: a :class:`ModelSlot` that follows a registry alias
  (``models:/NAME@champion``) re-reads it every few seconds and on request
  (:class:`AliasFollower`); a moved alias loads the new version beside the
  old one, scores one row with it, then swaps one reference: requests in
  flight finish on the model they started with, and every answer names the
  version that produced it. ``workbench rollback NAME`` takes effect without
  a restart.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.serving.guard import Guard, GuardPolicy
from workbench.serving.scoring import ServedModel, score_rows
from workbench.validation import check_number

MODES = ("canary", "shadow")


def canary_bucket(record_id: str) -> float:
    """A number in [0, 100) fixed by `record_id` (a stable hash: the same on every run and machine)."""
    digest = hashlib.blake2b(str(record_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100.0


@dataclass(frozen=True)
class Deployment:
    """A served model and the guard built from its spec and profile (swapped together)."""

    served: ServedModel
    guard: Guard


class ModelSlot:
    """One role's model (champion or challenger), reloaded when the alias it follows moves.

    Parameters
    ----------
    ref : str, Path or Model
        What to serve: a model file, a ``models:/`` URI or a loaded model. Only a
        ``models:/NAME@ALIAS`` URI is followed; anything else is fixed.
    role : str
        ``"champion"`` or ``"challenger"``.
    policy : GuardPolicy
        The guard's policy (the guard is rebuilt for each version).
    registry : str, optional
        Where ``models:/`` URIs are looked up.
    profile : dict, optional
        A training profile for models that carry none (from a reference table).
    """

    def __init__(
        self,
        ref: Any,
        role: str,
        *,
        policy: GuardPolicy,
        registry: str | None = None,
        profile: dict | None = None,
    ):
        self.ref, self.role, self.policy, self.registry, self.profile = ref, role, policy, registry, profile
        self.deployment = self._deploy(ServedModel.load(ref, registry=registry))
        self._alias = _alias_of(ref)

    @property
    def served(self) -> ServedModel:
        """The model answering now."""
        return self.deployment.served

    @property
    def follows(self) -> str | None:
        """The alias URI this slot follows (None: a fixed model)."""
        return self.ref if self._alias else None

    def refresh(self) -> bool:
        """Re-read the alias; load, warm up and swap in a moved one. True when the model changed."""
        if not self._alias:
            return False
        from workbench.registry.versions import get_alias

        name, alias = self._alias
        info = get_alias(name, alias, registry=self.registry)
        if str(info.version) == self.served.version:
            return False
        loaded = ServedModel.load(f"models:/{name}/{info.version}", registry=self.registry)
        deployment = self._deploy(ServedModel(loaded.model, loaded.name, loaded.version, loaded.uri, alias))
        self.deployment = deployment  # one reference: a batch uses the old model or the new, never a mix
        return True

    def _deploy(self, served: ServedModel) -> Deployment:
        profile = (served.model.meta or {}).get("profile") or self.profile
        guard = Guard(served.spec, profile, self.policy)
        _warm_up(served, guard)
        return Deployment(served, guard)


class Router:
    """Sends each record to the champion or, for a canary, to the challenger for `percent` % of ids."""

    def __init__(self, mode: str | None = None, percent: float = 0.0, *, seed: int | None = None):
        self.mode = mode
        self.percent = check_number(percent, "the canary percent", low=0, high=100)
        self._random = random.Random(seed)

    def role(self, record_id: str | None) -> str:
        """``"canary"`` or ``"champion"`` for a record with this id (None: drawn at random)."""
        if self.mode != "canary" or self.percent <= 0:
            return "champion"
        share = canary_bucket(record_id) if record_id is not None else self._random.random() * 100.0
        return "canary" if share < self.percent else "champion"


class AliasFollower:
    """A thread that calls :meth:`ModelSlot.refresh` on every slot each `every` seconds.

    A registry that cannot be read leaves the models as they are; :attr:`problem` says why
    (the server's health shows it as degraded) until a later read works.
    """

    def __init__(self, slots: list[ModelSlot], *, every: float = 5.0, on_swap: Callable | None = None):
        self.slots = [s for s in slots if s is not None and s.follows]
        self.every = every
        self.on_swap = on_swap
        self.problem: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if self.slots and every > 0:
            self._thread = threading.Thread(target=self._run, name="workbench-alias-follower", daemon=True)
            self._thread.start()

    def refresh(self) -> list[str]:
        """Re-read every followed alias now; the roles whose model changed."""
        changed = []
        with self._lock:  # the thread and POST /reload never load the same version twice
            try:
                for slot in self.slots:
                    if slot.refresh():
                        changed.append(slot.role)
                        if self.on_swap is not None:
                            self.on_swap(slot)
                self.problem = None
            except Exception as exc:
                self.problem = f"the registry could not be read ({type(exc).__name__}: {exc}); serving on"
                raise
        return changed

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.refresh()
            except Exception:
                pass  # recorded in self.problem; the next round tries again


def _alias_of(ref: Any) -> tuple[str, str] | None:
    from workbench.registry.uris import is_model_uri, parse_model_uri

    if not is_model_uri(ref):
        return None
    parsed = parse_model_uri(ref)
    return (parsed.name, parsed.alias) if parsed.alias else None


#: rows of the warm-up batch: a large first call sets up what small ones do not (onnxruntime's batch session)
WARM_UP_ROWS = 512


def _warm_up(served: ServedModel, guard: Guard) -> None:
    """Score a typical row, then a batch of them, before the model takes traffic (first calls of each size
    set up sessions and caches: a request must not wait for that)."""
    row = guard.typical_row()
    try:
        score_rows(served, [row])
        score_rows(served, [row] * WARM_UP_ROWS)
    except Exception:
        pass  # a model that cannot score a typical row fails its requests, and the fallback answers them
