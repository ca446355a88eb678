"""SQLAlchemy 2.0 typed models of the station's store; the schema version lives in alembic."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BigInteger keys autoincrement on PostgreSQL; SQLite needs plain INTEGER for rowid aliasing.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Meta(Base):
    """Key/value facts about this store: station id, serial counters, the audit chain head."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Batch(Base):
    """One work order: product, lot, dates, line, planned quantity; Open-SCS job states."""

    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_sku: Mapped[str] = mapped_column(String(64))
    product_gtin: Mapped[str | None] = mapped_column(String(14))
    product_name: Mapped[str] = mapped_column(String(200))
    lot: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    produced: Mapped[date | None] = mapped_column(Date)
    expires: Mapped[date | None] = mapped_column(Date)
    line: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)


class Pool(Base):
    """A set of codes allocated to this line for one level (an import or a generation run)."""

    __tablename__ = "pools"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    level: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # imported | generated | pulled
    scheme: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(Text)  # file name or upstream URL
    sha256: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    pairs: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Pack(Base):
    """A supplier's code file (码包) imported as one unit for one level; withdrawn as one too."""

    __tablename__ = "packs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(200))  # the supplier, as the user names it
    origin: Mapped[str | None] = mapped_column(Text)  # the file it came from
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the normalised codes
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    imported_by: Mapped[str] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)


class Code(Base):
    """One printed identifier and its fate; parent_id = its container, pair_id = its partner."""

    __tablename__ = "codes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(2000), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"), index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str | None] = mapped_column(String(1))
    child_count: Mapped[int | None] = mapped_column(Integer)
    # open | normal | partial | mixed; held (a pallet parked, 暂存), retired (emptied, code retired)
    container_status: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    pack_id: Mapped[int | None] = mapped_column(ForeignKey("packs.id"))  # the 码包 it came in

    __table_args__ = (Index("ix_codes_level_state", "level", "state", "id"),)


class Link(Base):
    """History of parent ← child links (add = packing, delete = unpacking)."""

    __tablename__ = "links"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("codes.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("codes.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), index=True)
    time: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[str] = mapped_column(String(64))


class Reject(Base):
    """An item the camera or a rule refused; waits for QA unless decided."""

    __tablename__ = "rejects"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"), index=True)
    read_text: Mapped[str | None] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    time: Mapped[datetime] = mapped_column(DateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Append-only trail; each row carries the SHA-256 of the previous one."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(2000))
    old: Mapped[str | None] = mapped_column(String(64))
    new: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxItem(Base):
    """A closed batch's file set waiting for upstream's acknowledgement."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(160))  # the unit's key: a batch id, B#P1, …
    path: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    # The batch a unit belongs to: its units go upstream one after another, in id order.
    chain: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("batch_id", name="uq_outbox_batch"),
        Index("ix_outbox_chain", "chain", "id"),
    )


class UpstreamUnit(Base):
    """One unit of a batch's data upstream: a closed pallet, the close, a correction, a verdict."""

    __tablename__ = "upstream_units"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # its outbox key
    batch_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # pallet | close | correction | release | reject
    subject_id: Mapped[int | None] = mapped_column(BigInteger)  # the pallet's code id
    audit_id: Mapped[int] = mapped_column(BigInteger)  # QA changes up to this entry are carried
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("batch_id", "seq", name="uq_upstream_units_seq"),
        UniqueConstraint("kind", "subject_id", name="uq_upstream_units_subject"),
    )


class UpstreamTold(Base):
    """What upstream has been told (sealed units, in order) about one code: fate, parent, pair."""

    __tablename__ = "upstream_told"
    code_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    fate: Mapped[str] = mapped_column(String(16))  # live | decommissioned | destroyed | void
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    pair_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(16))  # a container's normal|partial|mixed


class UpstreamMark(Base):
    """Per batch, the audit entry up to which QA's changes are carried by a sealed unit."""

    __tablename__ = "upstream_marks"
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    audit_id: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    """A person who may act on the station; PIN stored as a scrypt hash only."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    pin_hash: Mapped[str] = mapped_column(String(256))
    badge: Mapped[str | None] = mapped_column(String(128), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class BatchRelease(Base):
    """QA's release of a closed batch for shipping (出库放行): one row per released batch."""

    __tablename__ = "batch_releases"
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(DateTime)
    released_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


class Shipment(Base):
    """An outbound order (出库单) to one distributor: open while picking, closed when sealed."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[str] = mapped_column(String(64), unique=True)  # its outbox key
    distributor: Mapped[str] = mapped_column(String(200))
    gln: Mapped[str | None] = mapped_column(String(13))
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | closed
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))


class ShipmentCode(Base):
    """One code on an order; unique per code, so a code ships once whoever scans it first."""

    __tablename__ = "shipment_codes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"))
    top_id: Mapped[int] = mapped_column(ForeignKey("codes.id"))  # the scanned entry it came with
    added_at: Mapped[datetime] = mapped_column(DateTime)
    added_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("code_id", name="uq_shipment_codes_code"),
        Index("ix_shipment_codes_top", "shipment_id", "top_id"),
    )


class LineCommand(Base):
    """A command for the process that runs the line (`station pallet hold` while a run is on).

    The CLI queues a row; the runner (the store's one writer while it runs) takes it, carries
    it out in its own thread and writes the outcome back: queued → taken → done | failed, or
    cancelled by the CLI that gave up waiting, or expired when nobody took it in time.
    """

    __tablename__ = "line_commands"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(String(32))
    args: Mapped[str] = mapped_column(Text)  # JSON object
    user: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(Text)  # JSON object
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_line_commands_station_state", "station_id", "state"),)
