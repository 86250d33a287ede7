"""Who may do what on the cluster: the principals, their grants, and the admin calls that apply them.

`service_principals`, `city_principal` and `platform_principal` say, as data, which topics and groups
each principal may use; `apply` turns that into Kafka ACLs, and `docs_table` into the README's table, so
the documentation is the configuration. The operator is the one super user; everything else is denied
(`allow.everyone.if.no.acl.found=false`). Names are literal, never prefixes: a prefix ACL on
`challenges.oulu` would also open `challenges.oulu-anything`. The one wildcard is the monitor's
Describe (offsets, never contents) on every topic and group.

    with clients.admin(settings, client_id="matchmaker-access") as admin:
        password = grant_city(admin, settings, "Helsinki")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from schemas import City
from services.errors import BrokerError, InvalidInputError
from services.kafka import credentials
from services.settings import Settings

Resource = Literal["topic", "group"]
Operation = Literal["Read", "Write", "Create", "Describe"]
Role = Literal["operator", "service", "city", "platform"]

SERVICES = ("worker", "notifier", "inbox", "api", "monitor")
OPERATOR = "operator"
BROKER = "broker"
CITY_PREFIX, PLATFORM_PREFIX = "city-", "platform-"
ANY = "*"  # Kafka's wildcard resource name (a literal pattern that matches every name)
SCRAM_ITERATIONS = 8192  # Kafka's own minimum is 4096

READ: tuple[Operation, ...] = ("Read", "Describe")
WRITE: tuple[Operation, ...] = ("Write", "Describe")
OWN: tuple[Operation, ...] = ("Read", "Write", "Create", "Describe")  # a topic the principal creates and uses


@dataclass(frozen=True)
class Grant:
    resource: Resource
    name: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Principal:
    name: str  # the SCRAM user
    role: Role
    grants: tuple[Grant, ...]

    @property
    def kafka_principal(self) -> str:
        return f"User:{self.name}"


def _topics(operations: tuple[Operation, ...], *names: str) -> list[Grant]:
    return [Grant("topic", name, operations) for name in names]


def faust_internal_topics(app_id: str, tables: Iterable[str], *others: str) -> list[str]:
    """A Faust app's own topics: its table changelogs, its leader-election topic and `others`."""
    return [*others, *(f"{app_id}-{table}-changelog" for table in tables), f"{app_id}-__assignor-__leader"]


def service_principals(settings: Settings) -> list[Principal]:
    """The project's services, each with what it reads and writes and nothing else."""
    s, d = settings, settings.delivery
    challenges = s.challenge_topics
    worker_internal = faust_internal_topics(
        s.app_id, ("companies", "challenges", "merges", "alerts"), s.shard_input_topic, s.partials_topic
    )
    notifier_internal = faust_internal_topics(
        s.notifier_app_id, ("subscriptions", "deliveries", "stale"), s.notifier_control_topic
    )
    return [
        Principal(
            "worker",
            "service",
            (
                *_topics(READ, *challenges, s.topic_companies, d.topic_subscriptions),
                *_topics(("Write", "Create", "Describe"), s.topic_matches, s.topic_dead_letters),
                *_topics(OWN, *worker_internal),
                Grant("group", s.app_id, ("Read", "Describe")),
            ),
        ),
        Principal(
            "notifier",
            "service",
            (
                *_topics(READ, s.topic_matches, d.topic_subscriptions, s.topic_companies, *challenges),
                *_topics(WRITE, d.topic_notification_dead_letters),
                *_topics(OWN, *notifier_internal),
                Grant("group", s.notifier_app_id, ("Read", "Describe")),
            ),
        ),
        Principal(
            "inbox",
            "service",
            tuple(_topics(READ, s.topic_matches, d.topic_inbox_tokens, s.topic_companies, *challenges)),
        ),
        Principal(
            "api",
            "service",
            (
                # subscriptions: a company's alert threshold (PUT /v1/companies/{id}/subscription); the secrets
                # in it are sealed, the API never opens them
                *_topics(("Read", "Write", "Describe"), s.topic_challenges, s.topic_companies, d.topic_subscriptions),
                *_topics(READ, *s.city_topics.values()),
            ),
        ),
        Principal(
            "monitor",
            "service",
            (
                # lag: offsets of whatever groups it is asked to watch (MATCHMAKER_MONITOR_GROUPS), on any
                # topic; the records themselves (lag in seconds, the page's latest lists) of ours only
                Grant("topic", ANY, ("Describe",)),
                Grant("group", ANY, ("Describe",)),
                *_topics(
                    ("Read",),
                    *challenges,
                    s.topic_companies,
                    s.topic_matches,
                    s.topic_dead_letters,
                    d.topic_subscriptions,
                    s.shard_input_topic,
                    s.partials_topic,
                    s.notifier_control_topic,
                ),
            ),
        ),
    ]


def city_name(name: str) -> str:
    """The canonical city name (case-insensitive), or InvalidInputError listing the six."""
    for city in City:
        if city.value.lower() == name.strip().lower():
            return city.value
    raise InvalidInputError(f"unknown city {name!r}; one of: {', '.join(c.value for c in City)}")


def city_principal(settings: Settings, city: str) -> Principal:
    """A city platform: it may publish to its own challenges topic, and do nothing else."""
    city = city_name(city)
    return Principal(f"{CITY_PREFIX}{city.lower()}", "city", tuple(_topics(WRITE, settings.city_topic(city))))


def platform_principal(settings: Settings, name: str) -> Principal:
    """A trusted platform that publishes company profiles (on behalf of many companies)."""
    if not name.replace("-", "").isalnum() or not name.islower():
        raise InvalidInputError("a platform name is lowercase letters, digits and '-'")
    return Principal(f"{PLATFORM_PREFIX}{name}", "platform", tuple(_topics(WRITE, settings.topic_companies)))


# -- applying a plan ------------------------------------------------------------------------------

_OPERATIONS = {
    "Read": ACLOperation.READ,
    "Write": ACLOperation.WRITE,
    "Create": ACLOperation.CREATE,
    "Describe": ACLOperation.DESCRIBE,
}
_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}


def acls(principal: Principal) -> list[ACL]:
    return [
        ACL(
            principal.kafka_principal,
            "*",
            _OPERATIONS[operation],
            ACLPermissionType.ALLOW,
            ResourcePattern(_RESOURCES[grant.resource], grant.name, ACLResourcePatternType.LITERAL),
        )
        for grant in principal.grants
        for operation in grant.operations
    ]


def apply(admin: KafkaAdminClient, principal: Principal) -> None:
    """Make the principal's ACLs exactly its grants: remove what it had, then add the plan (idempotent)."""
    _delete_acls(admin, principal.name)
    result = admin.create_acls(acls(principal))
    if result.get("failed"):
        raise BrokerError(f"creating ACLs for {principal.name} failed: {result['failed'][:3]}")


def set_password(admin: KafkaAdminClient, settings: Settings, user: str, password: str) -> None:
    mechanism = ScramMechanism[settings.kafka_sasl_mechanism.replace("-", "_")]
    upsert = UserScramCredentialUpsertion(user, mechanism, password, iterations=SCRAM_ITERATIONS)
    errors = admin.alter_user_scram_credentials([upsert])
    if errors.get(user):
        raise BrokerError(f"setting the SCRAM credential of {user} failed: {errors[user]}")


def grant(admin: KafkaAdminClient, settings: Settings, principal: Principal) -> str:
    """Create or rotate the principal's credential and set its ACLs; the new password (shown once)."""
    password = credentials.new_password()
    set_password(admin, settings, principal.name, password)
    apply(admin, principal)
    return password


def revoke(admin: KafkaAdminClient, user: str) -> bool:
    """Remove a principal's credentials and ACLs; True when it had any. Its open connections are not
    cut by Kafka: they end at their next re-authentication or reconnection (see the Security section)."""
    if user in (OPERATOR, BROKER):
        raise InvalidInputError(f"{user!r} cannot be revoked; rotate it with `matchmaker access grant --{user}`")
    described = admin.describe_user_scram_credentials([user]).get(user) or {}
    mechanisms = [info["mechanism"] for info in described.get("credential_infos") or []]
    if mechanisms:
        admin.alter_user_scram_credentials([UserScramCredentialDeletion(user, m) for m in mechanisms])
    removed = _delete_acls(admin, user)
    return bool(mechanisms) or removed > 0


def sync_services(admin: KafkaAdminClient, settings: Settings) -> None:
    """The services' ACLs for these settings' topics (their credentials are the local store's or yours)."""
    for principal in service_principals(settings):
        admin.create_acls(acls(principal))  # additive: a second namespace keeps the first one's grants


def listing(admin: KafkaAdminClient) -> list[dict]:
    """Every SCRAM user with its ACLs: [{"principal", "mechanisms", "acls": ["Write topic x", ...]}]."""
    users = admin.describe_user_scram_credentials() or {}
    rows: dict[str, dict] = {
        name: {"principal": name, "mechanisms": [i["mechanism"].name for i in info.get("credential_infos") or []]}
        for name, info in users.items()
    }
    everything = ACLFilter(
        None,
        None,
        ACLOperation.ANY,
        ACLPermissionType.ANY,
        ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
    found, error = admin.describe_acls(everything)
    if error is not None and error.errno:  # kafka.errors.NoError has errno 0
        raise BrokerError(f"describing ACLs failed: {error}")
    for acl in found:
        name = acl.principal.removeprefix("User:")
        row = rows.setdefault(name, {"principal": name, "mechanisms": []})
        pattern = acl.resource_pattern
        row.setdefault("acls", []).append(
            f"{acl.operation.name.title()} {pattern.resource_type.name.lower()} {pattern.resource_name}"
        )
    for row in rows.values():
        row["acls"] = sorted(row.get("acls", []))
    return sorted(rows.values(), key=lambda row: row["principal"])


def _delete_acls(admin: KafkaAdminClient, user: str) -> int:
    mine = ACLFilter(
        f"User:{user}",
        None,
        ACLOperation.ANY,
        ACLPermissionType.ANY,
        ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
    results = admin.delete_acls([mine])
    return sum(len(matched) for _filter, matched, _error in results)


# -- the README's table ---------------------------------------------------------------------------


def docs_table(settings: Settings) -> str:
    """Markdown: principal -> resources -> operations, for the default settings (README, Security)."""
    city_topics = set(settings.city_topics.values())
    lines = ["| principal | may | on |", "|---|---|---|"]
    lines.append(f"| `{OPERATOR}` (the CLI) | everything (the one super user) | the whole cluster |")
    example_city = city_principal(settings, City.HELSINKI.value)
    principals = [
        *service_principals(settings),
        Principal("city-<city>", "city", example_city.grants),
        Principal(f"{PLATFORM_PREFIX}<name>", "platform", platform_principal(settings, "x").grants),
    ]
    for principal in principals:
        by_operations: dict[tuple[str, tuple[Operation, ...]], list[str]] = {}
        for g in principal.grants:
            if g.name in city_topics:  # the six cities' topics, as one entry
                name = f"`{settings.topic_challenges}.<city>`" + ("" if principal.role == "city" else " (all six)")
            else:
                name = f"`{g.name}`"
            names = by_operations.setdefault((g.resource, g.operations), [])
            if name not in names:
                names.append(name)
        for index, ((resource, operations), names) in enumerate(by_operations.items()):
            label = f"`{principal.name}`" if index == 0 else ""
            lines.append(f"| {label} | {', '.join(operations)} | {resource} {', '.join(names)} |")
    lines.append("")
    lines.append("Every other request is denied (`allow.everyone.if.no.acl.found=false`); all names are literal.")
    return "\n".join(lines)


# -- provisioning and client configuration --------------------------------------------------------


def sync(settings: Settings) -> None:
    """As the operator: create the project's topics and the services' ACLs for these settings (idempotent)."""
    from services.kafka import clients
    from services.kafka.topics import create_missing, delivery_topic_specs, topic_specs

    create_missing(settings, {**topic_specs(settings), **delivery_topic_specs(settings)})
    admin = clients.admin(settings, client_id="matchmaker-access")
    try:
        sync_services(admin, settings)
    finally:
        admin.close()


def client_config(settings: Settings, principal: Principal, password: str) -> dict[str, str | None]:
    """kafka-python keyword arguments for this principal, plus the topic it publishes to."""
    from services.kafka.clients import ca_file

    cafile = ca_file(settings)
    config: dict[str, str | None] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": principal.name,
        "sasl_plain_password": password,
        "ssl_cafile": str(cafile) if cafile is not None else None,
    }
    writable = [g.name for g in principal.grants if g.resource == "topic" and "Write" in g.operations]
    if principal.role == "city":
        config["challenges_topic"] = writable[0]
    elif principal.role == "platform":
        config["companies_topic"] = writable[0]
    return config


def client_properties(config: dict[str, str | None]) -> str:
    """The same as a librdkafka properties file (`kcat -F FILE`), with the Java client's names as comments."""
    username, password = config["sasl_plain_username"], config["sasl_plain_password"]
    lines = [
        f"# Kafka client configuration of {username} (librdkafka, e.g. kcat -F this-file). Keep it secret.",
    ]
    for key in ("challenges_topic", "companies_topic"):
        if config.get(key):
            lines.append(f"# publish to topic: {config[key]}")
    lines += [
        f"bootstrap.servers={config['bootstrap_servers']}",
        f"security.protocol={config['security_protocol']}",
        f"sasl.mechanisms={config['sasl_mechanism']}",
        f"sasl.username={username}",
        f"sasl.password={password}",
    ]
    if config.get("ssl_cafile"):
        lines.append(f"ssl.ca.location={config['ssl_cafile']}")
    lines += [
        "# Java clients: security.protocol as above, sasl.mechanism=" + str(config["sasl_mechanism"]) + ",",
        "#   sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{username}" password="<the password above>";',
    ]
    if config.get("ssl_cafile"):
        lines.append(f"#   ssl.truststore.type=PEM, ssl.truststore.location={config['ssl_cafile']}")
    return "\n".join(lines) + "\n"
