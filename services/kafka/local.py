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
class BrokerStatus:
    running: bool
    bootstrap_servers: str
    pid: int | None
    managed: bool  # False when KAFKA_BOOTSTRAP_SERVERS points at an existing cluster

    def describe(self) -> str:
        if not self.managed:
            return f"using existing cluster at {self.bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS); nothing local"
        if self.running:
            return f"local broker running at {self.bootstrap_servers} (pid {self.pid})"
        return f"local broker not running (would listen on {self.bootstrap_servers})"


class LocalBroker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.home / "kafka"
        self.libs = self.root / "libs"
        self.dir = self.root / f"broker-{settings.kafka_port}"
        self.pid_file = self.dir / "broker.pid"

    # -- public -------------------------------------------------------------------------------
    def status(self) -> BrokerStatus:
        if not self.settings.uses_local_broker:
            return BrokerStatus(True, self.settings.bootstrap_servers, None, managed=False)
        pid = self._running_pid()
        return BrokerStatus(pid is not None, self.settings.bootstrap_servers, pid, managed=True)

    def up(self, timeout: float = 90.0) -> BrokerStatus:
        """Start the broker unless it runs already; return once it answers Kafka requests."""
        status = self.status()
        if status.running:
            return status
        if _port_open(self.settings.kafka_port) or _port_open(self.settings.controller_port):
            raise BrokerError(
                f"port {self.settings.kafka_port} or {self.settings.controller_port} on 127.0.0.1 is taken by another "
                "process; set MATCHMAKER_KAFKA_PORT to a free port or KAFKA_BOOTSTRAP_SERVERS to use that cluster"
            )
        check_java()
        self.provision()
        self._format_once()
        process = self._start()
        self._wait_ready(process, timeout)
        self._grant_services()
        return self.status()

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the broker if this project started it. True when something was stopped."""
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

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
    def _config(self) -> Path:
        """server.properties: SASL_SSL (SCRAM) for clients and replication, mutual TLS for the controller,
        ACLs on with the operator as the one super user; a SASL_PLAINTEXT listener only when asked for."""
        port, controller = self.settings.kafka_port, self.settings.controller_port
        tls = ensure_tls(tls_dir(self.settings.home))
        broker_password = credentials.ensure(self.settings.home, BROKER)
        listeners = [f"SASL_SSL://127.0.0.1:{port}", f"CONTROLLER://127.0.0.1:{controller}"]
        advertised = [f"SASL_SSL://127.0.0.1:{port}"]
        if self.settings.kafka_debug_listener:
            listeners.append(f"DEBUG://127.0.0.1:{self.settings.debug_port}")
            advertised.append(f"DEBUG://127.0.0.1:{self.settings.debug_port}")
        scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule required"
        path = self.dir / "server.properties"
        write_private(
            path,
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{controller}",
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
                    f"log.dirs={self.dir / 'data'}",
                    f"num.partitions={self.settings.partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=10",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
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
        """Format the storage once, with the SCRAM credentials of the broker, the operator and the services
        (KRaft writes them into the first metadata; no client can connect before that)."""
        self._retire_plaintext_storage()
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self._config()
        if (self.dir / "data" / "meta.properties").exists():
            return
        cluster_id = self._java("kafka.tools.StorageTool", "random-uuid").stdout.strip().splitlines()[-1]
        command = ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), "--standalone"]
        passwords = []
        for principal in LOCAL_PRINCIPALS:
            passwords.append(credentials.ensure(self.settings.home, principal))
            command += ["--add-scram", f"SCRAM-SHA-512=[name={principal},password={passwords[-1]}]"]
        # the passwords reach the tool through a 0600 argument file (`java @file`: the main class and its
        # arguments), never the command line, where `ps` would show them
        arguments = self.dir / "format.args"
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
        (self.dir / SECURED_MARKER).write_text("SASL_SSL, SCRAM-SHA-512, StandardAuthorizer\n")

    def _retire_plaintext_storage(self) -> None:
        """Storage formatted by an earlier, plaintext version has no credentials: move it aside, once."""
        if (self.dir / "data" / "meta.properties").exists() and not (self.dir / SECURED_MARKER).exists():
            aside = self.dir.with_name(f"{self.dir.name}.plaintext-{int(time.time())}")
            self.dir.rename(aside)
            print(f"the local broker's data predates authentication; moved to {aside}, starting a new one", flush=True)

    def _start(self) -> subprocess.Popen:
        logs = self.dir / "logs"
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
                    str(self.dir / "server.properties"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        return process

    def _wait_ready(self, process: subprocess.Popen, timeout: float) -> None:
        from services.kafka import clients

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BrokerError(f"the broker exited while starting; see {self.dir / 'logs' / 'server.log'}")
            if _port_open(self.settings.kafka_port):
                try:
                    admin = clients.admin(self.settings, client_id="matchmaker-broker-probe", request_timeout_ms=5000)
                    admin.list_topics()
                    admin.close()
                    return
                except Exception:  # still starting
                    pass
            time.sleep(0.5)
        raise BrokerError(f"the broker did not answer within {timeout:.0f}s; see {self.dir / 'logs' / 'server.log'}")

    def _grant_services(self) -> None:
        """The project's topics and the services' ACLs for these settings (tests add their namespaces')."""
        from services.kafka import access

        access.sync(self.settings)

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and _is_our_broker(pid) else None


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
