"""config.toml: typed values, and a bad value fails at load naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_center.config import load_config, parse_config
from contact_center.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_loads():
    """The config.toml in the repository is valid and says what the README says."""
    config = load_config(ROOT / "config.toml")
    assert config.server.port == 8080
    assert config.routing.offer_timeout_s == 20
    assert [s.after_s for s in config.routing.policy.widening] == [30, 60]
    assert set(config.webchat.topics) == {"general", "billing", "technical"}
    assert config.store.data_dir == ROOT / "data"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"routing": {"offer_timeout_s": "soon"}}, "routing.offer_timeout_s: must be a number > 0"),
        ({"routing": {"offer_timeout_s": 0}}, "routing.offer_timeout_s"),
        ({"server": {"port": 70000}}, "server.port"),
        ({"server": {"prot": 1}}, "server.prot: unknown key"),
        ({"nonsense": {}}, "nonsense: unknown key"),
        ({"webchat": {"max_frame_bytes": 10}}, "webchat.max_frame_bytes"),
        ({"webchat": {"topics": {"x": {"skills": {"billing": 9}}}}}, "webchat.topics.x.skills.billing"),
        ({"webchat": {"topics": {"x": {}}}}, "webchat.topics.x.skills"),
        ({"desk": {"default_capacity": {"fax": 1}}}, "desk.default_capacity.fax: unknown channel"),
        ({"routing": {"value_bands": [1000, 100]}}, "routing.value_bands: must be ascending"),
        ({"routing": {"widening": [{"after_s": 60}, {"after_s": 30}]}}, "routing.widening: steps must be in"),
        ({"routing": {"widening": [{"after_s": 60, "relax": 1}]}}, "routing.widening[0].relax: unknown key"),
        ({"routing": {"exclusive_channels": ["pager"]}}, "routing.exclusive_channels"),
        ({"routing": {"leader": "yes"}}, "routing.leader: must be true or false"),
        ({"sla": {"time_zone": "Asia/Batavia"}}, "sla.time_zone: unknown time zone 'Asia/Batavia'"),
        ({"sla": {"holidays": "XX"}}, "sla.holidays: no public holidays known for 'XX'"),
        ({"sla": {"holidays": "ID", "holiday_subdivision": "ZZ"}}, "sla.holiday_subdivision: ID has no subdivision"),
        ({"sla": {"hours": {"mon": ["17:00-08:00"]}}}, "sla.hours.mon: '17:00-08:00' ends before it starts"),
        ({"sla": {"hours": {"monday": ["08:00-17:00"]}}}, "sla.hours.monday: unknown day"),
        ({"sla": {"hours": {"mon": "08:00-17:00"}}}, "sla.hours.mon: must be a list of spans"),
        ({"sla": {"exceptions": {"24-12-2026": []}}}, "sla.exceptions.24-12-2026: not a date"),
        ({"sla": {"exceptions": {"2026-12-24": ["8-12"]}}}, "sla.exceptions.2026-12-24: '8-12' is not a span"),
        ({"email": {"target": 1.5}}, "email.target: must be a share in"),
        ({"email": {"first_response_h": 0}}, "email.first_response_h"),
        ({"logging": {"level": "loud"}}, "logging.level"),
        ({"store": {"backend": "mysql"}}, "store.backend"),
        ({"store": {"backend": "redis", "redis_url": "127.0.0.1:6379"}}, "store.redis_url: must be a redis://"),
        ({"store": "mysql://db/cc"}, 'store: must be a [store] table, "sqlite", or a redis://'),
        ({"store": {"wal_limit_mib": 0.5}}, "store.wal_limit_mib: must be a number of MiB > 1"),
        ({"server": {"trusted_proxies": ["10.0.0.0/8", "nginx"]}}, "server.trusted_proxies: 'nginx' is not an IP"),
        ({"server": {"header_timeout_s": 0}}, "server.header_timeout_s: must be a number of seconds > 0"),
        ({"server": {"max_connections_per_client": 0}}, "server.max_connections_per_client"),
        ({"auth": {"lockout_after": 0}}, "auth.lockout_after: must be an integer >= 1"),
        ({"auth": {"backoff_first_s": 10, "backoff_max_s": 5}}, "auth.backoff_max_s: must not be below"),
        ({"auth": {"hash_workers": 100}}, "auth.hash_workers: must be an integer 1-64"),
        ({"auth": {"hash_time_cost": 0}}, "auth.hash_time_cost: must be an integer >= 1"),
        ({"auth": {"hash_memory_kib": 16, "hash_lanes": 4}}, "auth.hash_memory_kib: Argon2 needs at least 8 KiB"),
        ({"webchat": {"heartbeat_s": 0}}, "webchat.heartbeat_s: must be a number > 0"),
        ({"identity": {"secret": "short"}}, "identity.secret: at least 16 characters"),
        ({"identity": {"identifier": "passport"}}, "identity.identifier: must be email or phone or user_id"),
        ({"identity": {"sekret": "x"}}, "identity.sekret: unknown key"),
        ({"email": {"trusted_authserv_id": "mx.example.com; evil"}}, "email.trusted_authserv_id: must be a host"),
        ({"webchat": {"new_visitors_per_min": 0}}, "webchat.new_visitors_per_min"),
        ({"desk": {"history_of_handled": "yes"}}, "desk.history_of_handled: must be true or false"),
    ],
)
def test_bad_values_name_the_key(data, message):
    """Each wrong value is refused with the dotted key in the message."""
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(data)


def test_missing_file_and_bad_toml(tmp_path):
    """A missing file or broken TOML is a ConfigError that names the file."""
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_the_redis_store_is_chosen_with_its_url_and_prefix(tmp_path):
    """backend = "redis" keeps the URL and prefix given; the defaults name a local Redis and "cc:"."""
    cfg = parse_config(
        {"store": {"backend": "redis", "redis_url": "redis://10.1.2.3:6380/2", "redis_prefix": "acme:"}}, tmp_path
    )
    assert (cfg.store.backend, cfg.store.redis_url, cfg.store.redis_prefix) == (
        "redis",
        "redis://10.1.2.3:6380/2",
        "acme:",
    )
    default = parse_config({}, tmp_path).store
    assert (default.backend, default.redis_url, default.redis_prefix) == ("sqlite", "redis://127.0.0.1:6379/0", "cc:")


def test_the_store_named_in_one_line():
    """store = "redis://..." chooses the Redis store at that URL; store = "sqlite" the embedded one."""
    cfg = parse_config({"store": "redis://10.1.2.3:6380/2"})
    assert (cfg.store.backend, cfg.store.redis_url, cfg.store.redis_prefix) == (
        "redis",
        "redis://10.1.2.3:6380/2",
        "cc:",
    )
    assert parse_config({"store": "sqlite"}).store.backend == "sqlite"


def test_the_business_calendar_defaults_to_jakarta_office_hours_and_indonesian_holidays(tmp_path):
    """No [sla] table: Asia/Jakarta, 08:00-17:00 Monday to Friday, Indonesia's public holidays; 2 h for 90 %."""
    from datetime import date

    cfg = parse_config({}, tmp_path)
    calendar = cfg.sla.calendar
    assert calendar.time_zone == "Asia/Jakarta"
    assert calendar.week[0] == ((8 * 3600, 17 * 3600),) and calendar.week[5] == ()
    assert date(2026, 8, 17) in calendar.holidays  # Independence Day
    assert (cfg.email.promise.within_s, cfg.email.promise.target, cfg.email.promise.at_risk_s) == (7200, 0.9, 1800)


def test_a_calendar_is_read_from_its_table(tmp_path):
    """Hours per day (days not named are closed), a subdivision's holidays, dated exceptions."""
    from datetime import date

    cfg = parse_config(
        {
            "sla": {
                "time_zone": "Asia/Makassar",
                "holidays": "ID",
                "hours": {"mon": ["08:00-12:00", "13:00-17:00"], "sat": ["09:00-12:00"]},
                "exceptions": {"2026-12-24": ["08:00-12:00"], "2026-12-31": []},
            }
        },
        tmp_path,
    )
    calendar = cfg.sla.calendar
    assert calendar.week[0] == ((28800, 43200), (46800, 61200)) and calendar.week[1] == ()
    assert calendar.exceptions == {date(2026, 12, 24): ((28800, 43200),), date(2026, 12, 31): ()}


def test_every_default_is_the_dataclasses_own(tmp_path):
    """Defaults are written once, in the config dataclasses: an empty file reads as Config() (data_dir resolved)."""
    from dataclasses import replace

    from contact_center.config import Config

    read = parse_config({}, tmp_path)
    assert read.store.data_dir == tmp_path / "data"
    assert replace(read, store=replace(read.store, data_dir=Config().store.data_dir)) == Config()
