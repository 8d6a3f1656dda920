#!/usr/bin/env bash
# tests/deploy/test_dockerfile.sh - keeps deploy/docker/Dockerfile honest where no
# Docker engine runs: lints it, checks that its build steps are exactly the repo's
# own commands (each make target exists: `make -n` accepts it), that the runtime
# stage installs exactly the Debian packages holding the libraries bin/senti links
# (ldd + dpkg -S), and that the build context keeps what the build needs.
# With a Docker daemon present it also runs `docker build --check`.
source "$(dirname "$0")/lib.sh"

DF="${DOCKERFILE:-$ROOT/deploy/docker/Dockerfile}"
DI="$ROOT/deploy/docker/Dockerfile.dockerignore"
[ -f "$DF" ] || { echo "FAIL: $DF missing"; exit 1; }
[ -f "$DI" ] || fail "Dockerfile.dockerignore missing"

# One instruction per line: comments dropped, continuations joined, heredocs none.
awk '
  /^[[:space:]]*#/ { next }
  { line = $0 }
  cont { buf = buf " " line } !cont { buf = line }
  { if (sub(/\\[[:space:]]*$/, "", buf)) { cont = 1; next } cont = 0
    if (buf ~ /[^[:space:]]/) print buf }
' "$DF" | sed -E 's/[[:space:]]+/ /g; s/^ //' >"$TMP/instr"
instr() { grep -E "^$1( |$)" "$TMP/instr" || true; }
nstages=$(instr FROM | wc -l)

# ---- lint ----------------------------------------------------------------------
head -n1 "$DF" | grep -q '^# syntax=docker/dockerfile:1' && ok "syntax directive (BuildKit, RUN --mount)" ||
    fail "first line must be '# syntax=docker/dockerfile:1' (RUN --mount needs it)"
bad_from=$(instr FROM | grep -vE '^FROM (--platform=[^ ]+ )?[^ ]+ AS [a-z][a-z0-9_-]*$' || true)
[ -z "$bad_from" ] && ok "every stage is named" || fail "unnamed stage: $bad_from"
# Base images: a pinned tag (ARG default) or scratch or an earlier stage; never latest.
for img in $(instr FROM | awk '{print $2}'); do
    case "$img" in
    scratch) ;;
    '${DEBIAN_IMAGE}')
        def=$(instr ARG | sed -n 's/^ARG DEBIAN_IMAGE=//p')
        [[ "$def" =~ ^debian:bookworm-slim(@sha256:[0-9a-f]{64})?$ ]] && ok "base image $def" || fail "DEBIAN_IMAGE default '$def' is not debian:bookworm-slim"
        ;;
    *) fail "FROM $img: use the DEBIAN_IMAGE argument or scratch" ;;
    esac
done
grep -qiE '^FROM [^ ]*:latest' "$TMP/instr" && fail "FROM uses :latest"
instr ADD | grep -q . && fail "ADD used (use COPY; no remote downloads)" || ok "no ADD"
grep -q 'sudo ' "$TMP/instr" && fail "sudo in a RUN line" || ok "no sudo"
grep -qE '(curl|wget) ' "$TMP/instr" && fail "downloads in RUN (curl/wget): everything comes from apt and the repo"
while IFS= read -r run; do
    if [[ "$run" == *"apt-get install"* ]]; then
        [[ "$run" == *"apt-get update"* ]] || fail "apt-get install without apt-get update in the same RUN: $run"
        [[ "$run" == *"--no-install-recommends"* ]] || fail "apt-get install without --no-install-recommends: $run"
        [[ "$run" =~ apt-get\ install\ -y|apt-get\ install\ [^|]*\ -y ]] || fail "apt-get install without -y: $run"
        [[ "$run" == *"rm -rf /var/lib/apt/lists/*"* ]] || fail "apt lists not removed in the same RUN: $run"
    fi
done < <(instr RUN)
ok "apt-get hygiene checked"
for k in title description version revision created source licenses; do
    grep -q "org.opencontainers.image.$k=" "$TMP/instr" || fail "OCI label org.opencontainers.image.$k missing"
done
ok "OCI labels checked"
grep -qiE '^(ENV|ARG) [^=]*(PASSWORD|SECRET|TOKEN|API_KEY)' "$TMP/instr" && fail "a secret-looking ENV/ARG"

# ---- the runtime stage ------------------------------------------------------------
awk -v n="$nstages" '/^FROM /{s++} s==n' "$TMP/instr" >"$TMP/runtime"
rt() { grep -E "^$1( |$)" "$TMP/runtime" || true; }
[ "$(rt USER | tail -n1)" = "USER 1000:1000" ] && ok "runs as uid 1000" || fail "last USER must be 1000:1000 (got '$(rt USER | tail -n1)')"
[ "$(rt ENTRYPOINT)" = 'ENTRYPOINT ["senti", "serve"]' ] && ok 'ENTRYPOINT ["senti", "serve"]' || fail "ENTRYPOINT is '$(rt ENTRYPOINT)'"
rt HEALTHCHECK | grep -q '/healthz' && ok "HEALTHCHECK on /healthz" || fail "HEALTHCHECK must call /healthz"
rt HEALTHCHECK | grep -q 'CMD \[' || fail "HEALTHCHECK must use the exec form"
[ "$(rt EXPOSE)" = "EXPOSE 8080" ] && ok "EXPOSE 8080" || fail "EXPOSE must be 8080 (senti's default port)"
rt ENV | grep -q 'SENTI_CONFIG_DIR=/etc/senti' && ok "SENTI_CONFIG_DIR=/etc/senti" || fail "SENTI_CONFIG_DIR=/etc/senti not set"
rt ENV | grep -q 'SENTI_SERVER_HOST=0.0.0.0' || fail "SENTI_SERVER_HOST=0.0.0.0 not set (dev binds loopback)"
rt RUN | grep -qE '(make|gcc|cc|clang) ' && fail "the runtime stage compiles or runs make"
rt COPY | grep -q -- '--from=build /src/bin/senti /usr/local/bin/senti' && ok "binary copied from the build stage" || fail "bin/senti not copied from build"
# Config files copied exist in the repo.
for f in $(rt COPY | grep -o '/src/cfg/[a-z]*\.yaml' | sed 's#/src/##'); do
    [ -f "$ROOT/$f" ] || fail "COPY $f: no such file in the repo"
done
for e in base "${ENVS[@]}"; do
    rt COPY | grep -q "/src/cfg/$e.yaml" || fail "cfg/$e.yaml not copied to /etc/senti"
done

# Runtime packages: exactly the Debian packages owning the libraries bin/senti
# links, apart from libc6/libgcc-s1/libstdc++6 (already in the base image) and the
# sanitizer runtimes (make asan/tsan run this test with their own binary; the image
# is built with the release flavour).
rt_pkgs=$(rt RUN | grep -o 'apt-get install [^&]*' | sed 's/apt-get install//' | tr ' ' '\n' |
    grep -vE '^(-.*|)$' | sort -u)
BIN="${SENTI_BIN:-$ROOT/bin/senti}"
if [ ! -x "$BIN" ]; then
    fail "senti binary $BIN not built (make) - cannot check the runtime libraries"
else
    # The Debian package owning a library: dpkg knows the path it shipped, which
    # with merged /usr may be the /lib or the /usr/lib spelling, or the real file
    # behind an alternatives link.
    pkg_of() {
        local p r
        r=$(readlink -f "$1")
        for p in "$1" "$r" "${r#/usr}" "/usr$1"; do
            if dpkg -S "$p" >"$TMP/dpkg" 2>/dev/null; then head -n1 "$TMP/dpkg" | cut -d: -f1; return; fi
        done
        echo "unowned:$1"
    }
    # Direct dependencies only (NEEDED); what they pull in, apt installs itself.
    ldd "$BIN" >"$TMP/ldd"
    objdump -p "$BIN" | awk '/NEEDED/{print $2}' | while read -r so; do
        path=$(awk -v so="$so" '$1 == so && $3 ~ /^\// {print $3}' "$TMP/ldd")
        [ -n "$path" ] || { echo "unresolved:$so"; continue; }
        pkg_of "$path"
    done | sort -u | { grep -vE "^(libc6|libgcc-s1|libstdc\+\+6|libasan[0-9]+|libubsan[0-9]+|libtsan[0-9]+|liblsan[0-9]+)$" || true; } >"$TMP/need"
    want=$(sort -u "$TMP/need")
    if [ "$want" = "$rt_pkgs" ]; then
        ok "runtime packages = libraries bin/senti links: $(echo $want)"
    else
        fail "runtime stage installs [$(echo $rt_pkgs)] but bin/senti needs [$(echo $want)]"
    fi
fi

# ---- the build stage runs the repo's own commands -----------------------------------
awk '/^FROM /{s++} s>=1 && s<'"$nstages"' && /^RUN /' "$TMP/instr" |
    grep -oE '(^RUN |&& |; |then )make( [^&;|]*)?' | sed -E 's/^(RUN |&& |; |then )//; s/ +$//' >"$TMP/makes" || true
[ -s "$TMP/makes" ] || fail "the build stage runs no make command"
grep -qx 'make deps' "$TMP/makes" && ok "build stage: make deps" || fail "build stage must run 'make deps'"
grep -qE '^make -j"\$\(nproc\)"( |$)' "$TMP/makes" && ok "build stage: make (default target)" || fail "build stage must run 'make -j\"\$(nproc)\"'"
grep -qE '^make model( |$)' "$TMP/makes" && ok "build stage: make model (optional bake)" || fail "build stage must offer 'make model'"
while read -r cmd; do
    args=${cmd#make}
    args=$(echo "$args" | sed -E 's/-j"\$\(nproc\)"//; s/COMMIT="\$\{COMMIT\}"/COMMIT=test/; s/SHARED=[^ ]+/SHARED=\/nonexistent/; s/  +/ /g')
    [ "$args" = "$cmd" ] && args=""
    targets=$(echo "$args" | tr ' ' '\n' | grep -vE '^(-.*|[A-Z_]+=.*|)$' || true)
    for t in $targets; do
        grep -qE "^$t:" "$ROOT/Makefile" || fail "make $t: no such target in the Makefile"
    done
    # make -n: the Makefile accepts the exact invocation (targets and variables).
    # shellcheck disable=SC2086
    if (cd "$ROOT" && make -n $args O="$TMP/o" >/dev/null 2>"$TMP/make.err"); then
        ok "make -n$args"
    else
        fail "make -n$args fails: $(head -n3 "$TMP/make.err")"
    fi
done <"$TMP/makes"
# No compiler invoked behind the Makefile's back.
awk '/^FROM /{s++} s>=1 && s<'"$nstages"' && /^RUN /' "$TMP/instr" | grep -qE '(^| )(gcc|cc|clang|ar) ' &&
    fail "the build stage calls the compiler directly; use make"
# The build stage installs nothing but make before `make deps` (deps.sh owns the list).
pre=$(grep 'make deps' "$TMP/instr" | grep -o 'apt-get install [^&]*' | sed 's/apt-get install//' | tr ' ' '\n' | grep -vE '^(-.*|)$' | tr '\n' ' ')
[ "$pre" = "make " ] && ok "only make is installed before make deps" || fail "packages installed before make deps: $pre (list them in scripts/deps.sh)"

# ---- the build context ---------------------------------------------------------------
# Every source folder the Makefile builds, and the files the Dockerfile copies first,
# must be in the .dockerignore allow-list.
subsys=$(sed -n 's/^SUBSYS *:= *//p' "$ROOT/Makefile")
for d in $subsys cli bench scripts; do
    grep -qx "!$d/" "$DI" || fail "folder $d/ is excluded from the build context (Dockerfile.dockerignore)"
done
for f in Makefile VERSION; do grep -qx "!$f" "$DI" || fail "$f excluded from the build context"; done
for d in build bin .deps models .git; do
    [[ "$(head -n 5 "$DI")" == *"**"* ]] || grep -qx "$d" "$DI" || fail "$d not excluded from the build context"
done
ok "build context allow-list checked"

# ---- a real engine, where there is one ---------------------------------------------
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    (cd "$ROOT" && docker build --check -f deploy/docker/Dockerfile .) && ok "docker build --check" || fail "docker build --check"
else
    echo "note: no Docker daemon here; docker build --check not run (see deploy/README.md)"
fi

# ---- the checks bite: each broken copy of the Dockerfile must be rejected ------------
if [ -z "${DOCKERFILE:-}" ]; then
    mutate() { # name, sed expression, the FAIL message expected
        sed -E "$2" "$DF" >"$TMP/Dockerfile.$1"
        cmp -s "$DF" "$TMP/Dockerfile.$1" && { fail "mutation $1 changed nothing"; return; }
        if DOCKERFILE="$TMP/Dockerfile.$1" bash "$0" >"$TMP/mut.log" 2>&1; then
            fail "a Dockerfile with '$1' passed the checks"
        elif grep -q "^FAIL: .*$3" "$TMP/mut.log"; then
            ok "rejects a Dockerfile with '$1' ($3)"
        else
            fail "a Dockerfile with '$1' failed, but not with '$3'"
        fi
    }
    mutate missing-target 's/make deps/make depz/' 'make depz: no such target'
    mutate root-user 's/^USER 1000:1000/USER root/' 'last USER must be 1000:1000'
    mutate missing-lib 's/ libzstd1 / /' 'runtime stage installs'
    mutate shell-entrypoint 's/^ENTRYPOINT .*/ENTRYPOINT senti serve/' 'ENTRYPOINT is'
    mutate no-healthcheck 's#/healthz#/#' 'HEALTHCHECK must call /healthz'
    mutate direct-compile 's/^RUN make -j"\$\(nproc\)"/RUN cc -o bin\/senti cli\/main.c \&\& make -j"$(nproc)"/' 'calls the compiler directly'
    mutate latest-base 's/^ARG DEBIAN_IMAGE=.*/ARG DEBIAN_IMAGE=debian:latest/' 'DEBIAN_IMAGE default'
fi
finish
