# Sourced by scripts/serve.sh and scripts/test.sh: creates .venv and installs the project.
# `ensure_venv [extra]` reinstalls only when pyproject.toml changed since the last install.
ensure_venv() {
    local extra="${1:-}" spec="." stamp
    [ -n "$extra" ] && spec=".[$extra]"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
        .venv/bin/python -m pip install -q --upgrade pip
    fi
    stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${extra:-base}"
    if [ ! -f "$stamp" ]; then
        .venv/bin/python -m pip install -q -e "$spec"
        touch "$stamp"
    fi
}
