#!/usr/bin/env bash
# Exports 1 000 000 synthetic commands (each with its outcome: 2 000 000
# chain records) as JSON lines and checks that the exporting process stays
# under 64 MiB of resident memory however long the log is; then verifies
# the whole chain under the same bound. Prints the write rate, the export's
# and the verification's time and peak RSS.
#
#   bench/audit_export.sh
#
# This is the ignored test `export_of_a_million_commands_runs_in_bounded_memory`
# of crates/airlock/tests/audit_cli.rs, run in release: in a debug build it
# takes many minutes. Needs about 1.5 GB free in the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --release -p airlock --test audit_cli -- \
    --ignored --exact --nocapture export_of_a_million_commands_runs_in_bounded_memory
