"""The project's own single-node Apache Kafka broker (KRaft, combined broker+controller, loopback only).

Jars come from Maven Central through `mvn` and the small pom in `broker/` beside this module (shipped in the
wheel with the broker's log4j config); they are cached under
`$MATCHMAKER_HOME/kafka/libs`. Storage is formatted once per port under `$MATCHMAKER_HOME/kafka/broker-<port>`.
`up` and `down` are idempotent. When KAFKA_BOOTSTRAP_SERVERS is set nothing is started.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from services.errors import BrokerError
from services.kafka import credentials
from services.kafka.access import BROKER, OPERATOR
from services.kafka.clients import tls_dir
from services.kafka.credentials import LOCAL_PRINCIPALS, write_private
from services.kafka.tls import ensure_tls
from services.settings import Settings

BROKER_FILES = Path(__file__).resolve().parent / "broker"  # package data: real files, as mvn and java need
POM = BROKER_FILES / "pom.xml"
LOG4J_CONFIG = BROKER_FILES / "log4j2.properties"
MIN_JAVA = 17
SECURED_MARKER = "secured"  # written when the storage was formatted with credentials (this version)


@dataclass(frozen=True)
class Node:
    """One KRaft node of the local cluster: broker and controller in one JVM."""

    id: int
    port: int  # SASL_SSL, for clients and replication
    controller_port: int  # mutual TLS, for the controller quorum
    debug_port: int  # SASL_PLAINTEXT, only with the opt-in debugging listener
    dir: Path

    @property
    def pid_file(self) -> Path:
        return self.dir / "broker.pid"


@dataclass(frozen=True)
class NodeStatus:
    id: int
    port: int
    pid: int | None
    alive: bool

    def to_dict(self) -> dict:
        return {"id": self.id, "port": self.port, "pid": self.pid, "alive": self.alive}


@dataclass(frozen=True)
class BrokerStatus:
    running: bool  # every node alive
    bootstrap_servers: str
    pid: int | None  # the first node's
    managed: bool  # False when KAFKA_BOOTSTRAP_SERVERS points at an existing cluster
    nodes: tuple[NodeStatus, ...] = ()

    def describe(self) -> str:
        if not self.managed:
            return f"using existing cluster at {self.bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS); nothing local"
        alive = [n for n in self.nodes if n.alive]
        if len(self.nodes) == 1:
            if self.running:
                return f"local broker running at {self.bootstrap_servers} (pid {self.pid})"
            return f"local broker not running (would listen on {self.bootstrap_servers})"
        pids = ", ".join(f"{n.id}: {n.pid if n.alive else 'down'}" for n in self.nodes)
        return f"local cluster, {len(alive)} of {len(self.nodes)} brokers alive at {self.bootstrap_servers} ({pids})"

    def to_dict(self) -> dict:
        return {"brokers": [n.to_dict() for n in self.nodes]}


class LocalBroker:
    """The local cluster: one node (`broker-<port>`) or `kafka_brokers` nodes (`cluster-<port>/node-<id>`).

    Node i listens on kafka_port + 10*(i-1) (clients), that + 1 (controller), that + 2 (debugging).
    Three nodes are combined broker+controller nodes with a static three-voter quorum: on one machine,
    three more JVMs for dedicated controllers would double the memory for no difference a client sees.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.home / "kafka"
        self.libs = self.root / "libs"
        self.nodes = local_nodes(settings)
        self.dir = self.nodes[0].dir  # the first node's: its logs, for callers of the single-node broker
        self.pid_file = self.nodes[0].pid_file

    # -- public -------------------------------------------------------------------------------
    def status(self) -> BrokerStatus:
        if not self.settings.uses_local_broker:
            return BrokerStatus(True, self.settings.bootstrap_servers, None, managed=False)
        nodes = tuple(NodeStatus(n.id, n.port, pid, pid is not None) for n in self.nodes for pid in [self.pid(n.id)])
        return BrokerStatus(all(n.alive for n in nodes), self.settings.bootstrap_servers, nodes[0].pid, True, nodes)

    def up(self, timeout: float = 90.0) -> BrokerStatus:
        """Start every node that is not running; return once all of them answer Kafka requests."""
        status = self.status()
        if status.running:
            return status
        down = [n for n, s in zip(self.nodes, status.nodes, strict=True) if not s.alive]
        for node in down:
            if _port_open(node.port) or _port_open(node.controller_port):
                raise BrokerError(
                    f"port {node.port} or {node.controller_port} on 127.0.0.1 is taken by another process; set "
                    "MATCHMAKER_KAFKA_PORT to a free port or KAFKA_BOOTSTRAP_SERVERS to use that cluster"
                )
        check_java()
        self.provision()
        self._format_once()
        processes = [self._start(node) for node in down]
        self._wait_ready(processes, timeout)
        self._grant_services()
        return self.status()

    def down(self, timeout: float = 30.0) -> bool:
        """Stop every node this project started. True when something was stopped."""
        pids = [(node, self.pid(node.id)) for node in self.nodes]
        for _, pid in pids:
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(pid is not None and _alive(pid) for _, pid in pids):
            time.sleep(0.2)
        for node, pid in pids:
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL)
            node.pid_file.unlink(missing_ok=True)
        return any(pid is not None for _, pid in pids)

    def pid(self, node_id: int) -> int | None:
        """The pid of a running node, None when it is not running."""
        node = self.nodes[node_id - 1]
        try:
            pid = int(node.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and _is_our_broker(pid) else None

    def provision(self) -> Path:
        """Collect the broker's jars from Maven Central once."""
        marker = self.libs / ".complete"
        if marker.exists() and marker.read_text() == POM.read_text():
            return self.libs
        if shutil.which("mvn") is None:
            raise BrokerError("mvn (Apache Maven) is not installed; it fetches Kafka's jars: apt-get install maven")
        shutil.rmtree(self.libs, ignore_errors=True)
        self.libs.mkdir(parents=True)
        print(f"fetching Apache Kafka jars from Maven Central into {self.libs} (once) ...", flush=True)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.libs}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise BrokerError("mvn could not fetch Kafka's jars: " + " | ".join(tail))
        marker.write_text(POM.read_text())
        return self.libs

    def classpath(self) -> str:
        return str(self.libs / "*")

    # -- internals ----------------------------------------------------------------------------
    def _config(self, node: Node | None = None) -> Path:
        """server.properties: SASL_SSL (SCRAM) for clients and replication, mutual TLS for the controller,
        ACLs on with the operator as the one super user; a SASL_PLAINTEXT listener only when asked for."""
        node = node or self.nodes[0]
        count = len(self.nodes)
        replicas, min_isr = min(3, count), 2 if count >= 3 else 1
        tls = ensure_tls(tls_dir(self.settings.home))
        broker_password = credentials.ensure(self.settings.home, BROKER)
        listeners = [f"SASL_SSL://127.0.0.1:{node.port}", f"CONTROLLER://127.0.0.1:{node.controller_port}"]
        advertised = [f"SASL_SSL://127.0.0.1:{node.port}"]
        if self.settings.kafka_debug_listener:
            listeners.append(f"DEBUG://127.0.0.1:{node.debug_port}")
            advertised.append(f"DEBUG://127.0.0.1:{node.debug_port}")
        if count == 1:  # a dynamic quorum of one, formatted --standalone
            quorum = f"controller.quorum.bootstrap.servers=127.0.0.1:{node.controller_port}"
        else:  # a static quorum: every node votes
            quorum = "controller.quorum.voters=" + ",".join(f"{n.id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule required"
        path = node.dir / "server.properties"
        write_private(
            path,
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={node.id}",
                    quorum,
                    f"listeners={','.join(listeners)}",
                    f"advertised.listeners={','.join(advertised)}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=SASL_SSL",
                    "listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL,DEBUG:SASL_PLAINTEXT",
                    # clients and brokers: SCRAM over TLS; the broker's own user replicates
                    "sasl.enabled.mechanisms=SCRAM-SHA-512",
                    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
                    f'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram_login} username="{BROKER}" '
                    f'password="{broker_password}";',
                    f"listener.name.debug.scram-sha-512.sasl.jaas.config={scram_login};",
                    "ssl.keystore.type=PEM",
                    f"ssl.keystore.location={tls.broker_keystore}",
                    "ssl.truststore.type=PEM",
                    f"ssl.truststore.location={tls.ca_cert}",
                    # the controller listener: SCRAM cannot authenticate there (its credentials live in the
                    # metadata the controller serves), so the broker proves itself with its certificate
                    "listener.name.controller.ssl.client.auth=required",
                    "ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT",
                    # authorisation: nothing is allowed that an ACL does not allow
                    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    "allow.everyone.if.no.acl.found=false",
                    f"super.users=User:{OPERATOR};User:{BROKER}",
                    f"log.dirs={node.dir / 'data'}",
                    f"num.partitions={self.settings.partitions}",
                    # with three nodes every internal topic survives the loss of any one of them
                    f"default.replication.factor={replicas}",
                    f"min.insync.replicas={min_isr}",
                    f"offsets.topic.replication.factor={replicas}",
                    "offsets.topic.num.partitions=10",
                    f"transaction.state.log.replication.factor={replicas}",
                    f"transaction.state.log.min.isr={min_isr}",
                    "transaction.state.log.num.partitions=10",
                    f"share.coordinator.state.topic.replication.factor={replicas}",
                    f"share.coordinator.state.topic.min.isr={min_isr}",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "log.retention.hours=168",
                    "",
                ]
            ),
        )
        return path

    def _java(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                "java",
                "-cp",
                self.classpath(),
                f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                f"-Dkafka.logs.dir={self.dir / 'logs'}",
                *args,
            ],
            capture_output=True,
            text=True,
            **kwargs,
        )

    def _format_once(self) -> None:
        """Format each node's storage once, with one cluster id and the SCRAM credentials of the broker,
        the operator and the services (KRaft writes them into the first metadata; no client can connect
        before that)."""
        cluster_id = None
        for node in self.nodes:
            self._retire_plaintext_storage(node)
            node.dir.mkdir(parents=True, exist_ok=True)
            config = self._config(node)
            if (node.dir / "data" / "meta.properties").exists():
                continue
            cluster_id = cluster_id or self._cluster_id()
            self._format(node, config, cluster_id)

    def _cluster_id(self) -> str:
        """The id the nodes share: the one already formatted, if a node of this cluster has been, else new."""
        for node in self.nodes:
            meta = node.dir / "data" / "meta.properties"
            if meta.exists():
                found = re.search(r"^cluster\.id=(.+)$", meta.read_text(), re.M)
                if found:
                    return found.group(1).strip()
        return self._java("kafka.tools.StorageTool", "random-uuid").stdout.strip().splitlines()[-1]

    def _format(self, node: Node, config: Path, cluster_id: str) -> None:
        command = ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)]
        if len(self.nodes) == 1:
            command.append("--standalone")
        passwords = []
        for principal in LOCAL_PRINCIPALS:
            passwords.append(credentials.ensure(self.settings.home, principal))
            command += ["--add-scram", f"SCRAM-SHA-512=[name={principal},password={passwords[-1]}]"]
        # the passwords reach the tool through a 0600 argument file (`java @file`: the main class and its
        # arguments), never the command line, where `ps` would show them
        arguments = node.dir / "format.args"
        write_private(arguments, "\n".join(f'"{a}"' for a in command) + "\n")
        try:
            result = self._java(f"@{arguments}")
        finally:
            arguments.unlink(missing_ok=True)
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()[-300:]
            for password in passwords:
                output = output.replace(password, "***")
            raise BrokerError("formatting KRaft storage failed: " + output)
        (node.dir / SECURED_MARKER).write_text("SASL_SSL, SCRAM-SHA-512, StandardAuthorizer\n")

    def _retire_plaintext_storage(self, node: Node) -> None:
        """Storage formatted by an earlier, plaintext version has no credentials: move it aside, once."""
        if (node.dir / "data" / "meta.properties").exists() and not (node.dir / SECURED_MARKER).exists():
            aside = node.dir.with_name(f"{node.dir.name}.plaintext-{int(time.time())}")
            node.dir.rename(aside)
            print(f"the local broker's data predates authentication; moved to {aside}, starting a new one", flush=True)

    def _start(self, node: Node) -> subprocess.Popen:
        logs = node.dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        heap = os.environ.get("MATCHMAKER_KAFKA_HEAP", "-Xmx512m")
        with open(logs / "stdout.log", "ab") as out:
            process = subprocess.Popen(
                [
                    "java",
                    heap,
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    "-cp",
                    self.classpath(),
                    f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                    f"-Dkafka.logs.dir={logs}",
                    "kafka.Kafka",
                    str(node.dir / "server.properties"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        node.pid_file.write_text(str(process.pid))
        return process

    def _wait_ready(self, processes: list[subprocess.Popen], timeout: float) -> None:
        """Until every node is registered with the cluster (the metadata lists all of them)."""
        from services.kafka import clients

        deadline = time.monotonic() + timeout
        logs = self.dir / "logs" / "server.log"
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in processes):
                raise BrokerError(f"a broker exited while starting; see {logs} (and the other nodes' logs)")
            if all(_port_open(node.port) for node in self.nodes):
                try:
                    admin = clients.admin(self.settings, client_id="matchmaker-broker-probe", request_timeout_ms=5000)
                    try:
                        brokers = admin.describe_cluster()["brokers"]
                    finally:
                        admin.close()
                    if len(brokers) >= len(self.nodes):
                        return
                except Exception:  # still starting
                    pass
            time.sleep(0.5)
        raise BrokerError(f"the cluster did not answer within {timeout:.0f}s; see {logs}")

    def _grant_services(self) -> None:
        """The project's topics and the services' ACLs for these settings (tests add their namespaces')."""
        from services.kafka import access

        access.sync(self.settings)


def local_nodes(settings: Settings) -> list[Node]:
    """The nodes of the local cluster for these settings (see LocalBroker)."""
    root = settings.home / "kafka"
    if settings.kafka_brokers == 1:
        port = settings.kafka_port
        return [Node(1, port, settings.controller_port, settings.debug_port, root / f"broker-{port}")]
    nodes = []
    for index in range(settings.kafka_brokers):
        port = settings.kafka_port + 10 * index
        nodes.append(
            Node(index + 1, port, port + 1, port + 2, root / f"cluster-{settings.kafka_port}" / f"node-{index + 1}")
        )
    return nodes


def check_java() -> None:
    if shutil.which("java") is None:
        raise BrokerError(f"Java {MIN_JAVA}+ is not installed; the local Kafka broker needs it (e.g. openjdk-17-jre)")
    output = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    major = int(found.group(1)) if found else 0
    if major == 1 and found and found.group(2):  # "1.8" style
        major = int(found.group(2))
    if major < MIN_JAVA:
        raise BrokerError(
            f"Java {MIN_JAVA}+ is needed for the local Kafka broker; found: {output.splitlines()[0] if output else 'unknown'}"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return True


def _is_our_broker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"kafka.Kafka" in cmdline.read()
    except OSError:  # no /proc (macOS): trust the pid file
        return True


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
