"""Settings of shipping and the handheld page; to hang under config.toml [ship] and [web]."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from station.codes.gs1 import valid_check_digit


def check_gln(value: str | None, what: str = "--gln") -> str | None:
    """A GLN is 13 digits with a valid GS1 check digit; ValueError naming `what` otherwise."""
    if value is None or value == "":
        return None
    if not (len(value) == 13 and value.isdigit() and value.isascii()):
        raise ValueError(f"{what} {value!r}: a GLN is 13 digits")
    if not valid_check_digit(value):
        raise ValueError(f"{what} {value!r}: the check digit (last digit) is wrong")
    return value


class ShipSettings(BaseModel):
    """[ship]: who ships (the station's GLNs) and where dispatch notes go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gln: str | None = Field(None, description="GLN of the shipping site (source location)")
    owner_gln: str | None = Field(
        None, description="GLN of the owning party (the company); default: gln"
    )
    owner_name: str = Field("", description="Company name printed on the dispatch note")
    print_note: bool = Field(True, description="Print the dispatch note on the ticket printer")
    require_release: bool = Field(
        True,
        description="Ship only batches QA released (`station ship release-batch`); false: "
        "any completed batch",
    )
    range_limit: int = Field(10000, ge=1, le=1_000_000, description="Most codes in one range")

    @field_validator("gln", "owner_gln")
    @classmethod
    def _gln(cls, v: str | None) -> str | None:
        return check_gln(v, "ship.gln")


class WebSettings(BaseModel):
    """[web]: the handheld page's server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0: every network)")
    port: int = Field(8790, ge=0, le=65535)
    session_minutes: int = Field(480, ge=1, description="A login lasts this long without use")


def ship_settings(settings) -> ShipSettings:
    """settings.ship once config.py carries it; the defaults until then."""
    return getattr(settings, "ship", None) or ShipSettings()


def web_settings(settings) -> WebSettings:
    """settings.web once config.py carries it; the defaults until then."""
    return getattr(settings, "web", None) or WebSettings()
