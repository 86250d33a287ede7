#!/usr/bin/env bash
# Entrypoint of the compose broker (the apache/kafka image): server.properties plus the broker's own SCRAM
# login, storage formatted once with the SCRAM credential of every principal that has a password secret,
# then the broker in the foreground. The image's own entrypoint formats storage too, but cannot add SCRAM
# credentials, and no client can authenticate before the first credentials exist.
set -euo pipefail
umask 077

secrets=/run/secrets
private=/opt/kafka/config/matchmaker # in the container's own layer, 0700: these files hold the broker's password
data=/var/lib/kafka/data
mkdir -p "$private"

# A password from its secret file: token_urlsafe characters only, so no quoting in a properties file, a JAAS
# line or a java argument file can go wrong.
password() {
    local value
    value=$(cat "$1")
    if [[ ! $value =~ ^[A-Za-z0-9_-]+$ ]]; then
        echo "start.sh: $1 is empty or has characters other than letters, digits, '-' and '_'" >&2
        return 1
    fi
    printf '%s' "$value"
}

broker_password=$(password "$secrets/kafka-broker-password")
login="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"$broker_password\";"
{
    cat /etc/matchmaker/kafka/server.properties
    printf '\nlistener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=%s\n' "$login"
} >"$private/server.properties"

# What the health check connects with (the broker's own principal, over the same TLS listener as clients).
cat >"$private/client.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$login
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/kafka-ca
PROPERTIES

if [[ ! -f $data/meta.properties ]]; then
    # The arguments go to java in an argument file (0600), never on the command line, where ps would show
    # the passwords to every user of the host.
    arguments="$private/format.args"
    trap 'rm -f "$arguments"' EXIT
    cluster_id=$(/opt/kafka/bin/kafka-storage.sh random-uuid | tail -n 1)
    echo kafka.tools.StorageTool format --config "$private/server.properties" --cluster-id "$cluster_id" >"$arguments"
    for file in "$secrets"/kafka-*-password; do
        name=${file#"$secrets"/kafka-}
        name=${name%-password}
        secret=$(password "$file")
        echo --add-scram "SCRAM-SHA-512=[name=$name,password=$secret]" >>"$arguments"
        echo "start.sh: the SCRAM credential of $name goes into the new storage" >&2
    done
    /opt/kafka/bin/kafka-run-class.sh "@$arguments"
    rm -f "$arguments"
    trap - EXIT
fi

exec /opt/kafka/bin/kafka-server-start.sh "$private/server.properties"
