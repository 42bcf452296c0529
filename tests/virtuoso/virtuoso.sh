#!/usr/bin/env bash
# Start or stop the Virtuoso used by the tests, on loopback, with the configuration kept beside this script.
#   virtuoso.sh start DIR   -> prints the SPARQL endpoint URL when it answers
#   virtuoso.sh stop DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:?start|stop}"; dir="${2:?data folder}"
sqlport="${KG_VIRTUOSO_SQL_PORT:-1112}"; httpport="${KG_VIRTUOSO_HTTP_PORT:-8891}"
case "$cmd" in
  start)
    command -v virtuoso-t >/dev/null || { echo "virtuoso-t is not installed (apt-get install virtuoso-opensource)" >&2; exit 1; }
    mkdir -p "$dir"
    sed -e "s|@DIR@|$dir|g" -e "s|@SQLPORT@|$sqlport|g" -e "s|@HTTPPORT@|$httpport|g" "$here/virtuoso.ini" > "$dir/virtuoso.ini"
    if ! (cd "$dir" && virtuoso-t +configfile "$dir/virtuoso.ini" +wait >"$dir/start.log" 2>&1); then
      echo "virtuoso-t failed to start (is port $httpport or $sqlport taken?):" >&2
      tail -20 "$dir/start.log" "$dir/virtuoso.log" >&2 2>/dev/null || true
      exit 1
    fi
    for _ in $(seq 1 120); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$httpport/sparql?query=ASK%7B%7D"; then break; fi
      sleep 0.5
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$httpport/sparql?query=ASK%7B%7D" || { echo "Virtuoso did not start; see $dir/virtuoso.log" >&2; exit 1; }
    # let the anonymous SPARQL user run updates (loopback only), so `kg push` can load graphs
    isql-vt "127.0.0.1:$sqlport" dba dba exec="GRANT SPARQL_UPDATE TO \"SPARQL\"; GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO \"SPARQL\"; GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO \"SPARQL\";" >/dev/null
    echo "http://127.0.0.1:$httpport/sparql"
    ;;
  stop)
    isql-vt "127.0.0.1:$sqlport" dba dba exec="shutdown;" >/dev/null 2>&1 || true
    for _ in $(seq 1 40); do pgrep -f "virtuoso-t \+configfile $dir/virtuoso.ini" >/dev/null || exit 0; sleep 0.5; done
    pkill -f "virtuoso-t \+configfile $dir/virtuoso.ini" || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
