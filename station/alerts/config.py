"""The `[alerts]` section of config.toml as a pydantic model the station's config tree can embed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from station.alerts.targets import open_target


class AlertsConfig(BaseModel):
    """Alerts to phones: where they go, how many a minute, and when the line's state alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: tuple[str, ...] = Field(
        (),
        description="Apprise URLs, e.g. wecombot://BOTKEY, dingtalk://SECRET@TOKEN/, "
        "json://host:8080/path, mailto://user:pw@smtp.example.com?to=ops@example.com. "
        "Empty: no alerts are sent",
    )
    per_minute: int = Field(
        20,
        ge=1,
        le=600,
        description="Messages per target in any minute; WeCom and DingTalk robots take 20. "
        "Alerts beyond it are merged into one digest",
    )
    stopped_minutes: float = Field(
        10.0, gt=0, description="A line stopped this long alerts once per stop"
    )
    delivery_failures: int = Field(
        3, ge=1, description="Failed upstream deliveries in a row before an alert"
    )
    pool_thresholds: dict[str, int] = Field(
        default_factory=dict,
        description="Per level: alert when fewer available codes than this remain, "
        "e.g. {outer = 20000, case = 500}; a level not named never alerts",
    )

    @field_validator("targets")
    @classmethod
    def _usable(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for i, url in enumerate(urls):
            open_target(url, f"alerts.targets[{i}]")  # TargetError is a ValueError: names the URL
        return urls

    @field_validator("pool_thresholds")
    @classmethod
    def _positive(cls, thresholds: dict[str, int]) -> dict[str, int]:
        for level, n in thresholds.items():
            if n < 1:
                raise ValueError(
                    f"alerts.pool_thresholds.{level} is {n}; give a number of codes above 0"
                )
        return thresholds
