#!/usr/bin/env bash
# The clp installer, after the original's menu-driven install_cluster.sh: install, register
# the trial licenses, uninstall, verify checksums, add the operation scripts, read me first.
#
#   ./install_cluster.sh                    the menu ([Y/N] questions, N is the default)
#   ./install_cluster.sh --yes install      no questions: build and install into $CLP_ROOT
#   ./install_cluster.sh --yes trial        register the trial license of every product
#   ./install_cluster.sh --yes uninstall    remove exactly what install added
#
# CLP_ROOT (default /opt/clp) is where clp goes. CLP_INSTALL_FROM names a folder of already
# built binaries (the tests use it); otherwise `cargo build --release` builds them here.
# Installing as root into /opt/clp also links the commands into /usr/local/sbin and writes
# systemd units; every file and link added is recorded, and uninstall removes those only.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CLP_ROOT=${CLP_ROOT:-/opt/clp}
export CLP_ROOT
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$HERE/Cargo.toml" | head -n 1)
RECORD="$CLP_ROOT/share/clp/INSTALLED"
PRODUCTS=(XSS10 ISAG10 DBAG10 FSAG10 ALRT10 BASE10)
YES=0

info() { printf '[INFO]: %s\n' "$*"; }
fail() { printf '[ERROR]: %s\n' "$*" >&2; exit 1; }

# ask QUESTION: true when answered y/yes; N is the default (an empty answer or end of input).
ask() {
  if [ "$YES" = 1 ]; then
    printf '%s [Y/N]:(N) > y\n' "$1"
    return 0
  fi
  local answer=""
  printf '%s [Y/N]:(N) > ' "$1"
  read -r answer || answer=""
  case "$answer" in
    y | Y | yes | YES | Yes) return 0 ;;
    *) return 1 ;;
  esac
}

system_wide() { [ "$(id -u)" = 0 ] && [ "$CLP_ROOT" = /opt/clp ]; }

# record KIND PATH: remember what install added (file, link, dir), for uninstall.
record() {
  printf '%s %s\n' "$1" "$2" >>"$RECORD"
}

# place SOURCE TARGET MODE: copy through a temporary file and a rename, then record it.
place() {
  local source=$1 target=$2 mode=$3
  make_dir "$(dirname "$target")"
  install -m "$mode" "$source" "$target.partial"
  mv -f "$target.partial" "$target"
  record file "$target"
}

# make_dir DIR: create DIR and its missing parents, recording each one created.
make_dir() {
  [ -d "$1" ] && return 0
  make_dir "$(dirname "$1")"
  mkdir "$1"
  record dir "$1"
}

# link_all FROM TO: link every file of FROM into TO (made and recorded when missing).
link_all() {
  local file
  make_dir "$2"
  for file in "$1"/*; do
    ln -sfn "$file" "$2/$(basename "$file")"
    record link "$2/$(basename "$file")"
  done
}

built_binaries() {
  local from=$1
  find "$from" -maxdepth 1 -type f -perm -u+x -name 'clp*' ! -name 'clp-gen' ! -name '*.d' -printf '%f\n' | sort
}

do_install() {
  ask "Install clp $VERSION into $CLP_ROOT." || return 0
  if [ -f "$RECORD" ]; then
    fail "clp is already installed in $CLP_ROOT ($RECORD exists); uninstall it first"
  fi
  local from=${CLP_INSTALL_FROM:-}
  if [ -z "$from" ]; then
    printf '      Start building clp %s ....\n' "$VERSION"
    (cd "$HERE" && cargo build --release --locked --quiet) || fail "cargo build failed"
    from="$HERE/target/release"
  fi
  [ -x "$from/clppm" ] || fail "no clppm in $from: build clp first (cargo build --release)"
  printf '      Start installing clp %s ....\n' "$VERSION"
  # The record lives in share/clp: make that first, then record its own folders.
  local created=()
  local dir=$CLP_ROOT/share/clp
  while [ ! -d "$dir" ]; do
    created=("$dir" "${created[@]}")
    dir=$(dirname "$dir")
  done
  mkdir -p "$CLP_ROOT/share/clp"
  : >"$RECORD"
  for dir in "${created[@]}"; do record dir "$dir"; done
  for dir in "$CLP_ROOT" "$CLP_ROOT/bin" "$CLP_ROOT/etc" "$CLP_ROOT/etc/scripts" "$CLP_ROOT/log" \
    "$CLP_ROOT/run" "$CLP_ROOT/var" "$CLP_ROOT/tmp" "$CLP_ROOT/share" "$CLP_ROOT/share/clp"; do
    make_dir "$dir"
  done
  local names
  names=$(built_binaries "$from")
  for name in $names; do
    place "$from/$name" "$CLP_ROOT/bin/$name" 0755
  done
  (cd "$CLP_ROOT/bin" && sha256sum $names >SHA256SUMS.partial && mv -f SHA256SUMS.partial SHA256SUMS)
  record file "$CLP_ROOT/bin/SHA256SUMS"
  for page in "$HERE"/completions/man/*.1; do
    place "$page" "$CLP_ROOT/share/man/man1/$(basename "$page")" 0644
  done
  for file in "$HERE"/completions/bash/*; do
    place "$file" "$CLP_ROOT/share/bash-completion/completions/$(basename "$file")" 0644
  done
  for file in "$HERE"/completions/zsh/*; do
    place "$file" "$CLP_ROOT/share/zsh/site-functions/$(basename "$file")" 0644
  done
  for file in "$HERE"/completions/fish/*; do
    place "$file" "$CLP_ROOT/share/fish/vendor_completions.d/$(basename "$file")" 0644
  done
  place "$HERE/README.md" "$CLP_ROOT/share/clp/README.md" 0644
  if system_wide; then
    for name in $names; do
      ln -sfn "$CLP_ROOT/bin/$name" "/usr/local/sbin/$name"
      record link "/usr/local/sbin/$name"
    done
    # man looks beside /usr/local/sbin in /usr/local/share/man, bash and zsh for completions in
    # /usr/local/share, fish (without XDG_DATA_DIRS) in /etc/fish: link the pages and the
    # completion files there too.
    link_all "$CLP_ROOT/share/man/man1" /usr/local/share/man/man1
    link_all "$CLP_ROOT/share/bash-completion/completions" /usr/local/share/bash-completion/completions
    link_all "$CLP_ROOT/share/zsh/site-functions" /usr/local/share/zsh/site-functions
    if [ -d /etc/fish ]; then
      link_all "$CLP_ROOT/share/fish/vendor_completions.d" /etc/fish/completions
    else
      link_all "$CLP_ROOT/share/fish/vendor_completions.d" /usr/local/share/fish/vendor_completions.d
    fi
    if [ -d /etc/systemd/system ]; then
      write_unit clp-clppm.service "clp supervisor daemon" "$CLP_ROOT/bin/clppm --foreground"
      write_unit clp-webmgr.service "clp web manager" "$CLP_ROOT/bin/clpwebmgr --foreground"
    fi
  fi
  info "The operation was successful"
}

write_unit() {
  local unit=/etc/systemd/system/$1
  cat >"$unit.partial" <<UNIT
[Unit]
Description=$2
After=network-online.target

[Service]
Environment=CLP_ROOT=$CLP_ROOT
ExecStart=$3
KillMode=process
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
  mv -f "$unit.partial" "$unit"
  record file "$unit"
}

do_trial() {
  [ -x "$CLP_ROOT/bin/clplcncs" ] || fail "clp is not installed in $CLP_ROOT: install it first"
  for product in "${PRODUCTS[@]}"; do
    if ask "Register the trial $product licenses."; then
      "$CLP_ROOT/bin/clplcncs" --trial -P "$product" | grep -v '^Command succeeded.$' || true
    fi
  done
  info "The operation was successful"
}

do_uninstall() {
  [ -f "$RECORD" ] || fail "nothing to uninstall: $RECORD is missing"
  ask "Uninstall clp from $CLP_ROOT." || return 0
  if [ -x "$CLP_ROOT/bin/clp_ml" ]; then
    "$CLP_ROOT/bin/clp_ml" stop -y >/dev/null 2>&1 || true
  fi
  # Files and links first, newest first; then the folders install made, when empty.
  tac "$RECORD" | while read -r kind path; do
    case "$kind" in
      file | link | addon) rm -f "$path" ;;
    esac
  done
  local record_copy
  record_copy=$(cat "$RECORD")
  rm -f "$RECORD"
  printf '%s\n' "$record_copy" | tac | while read -r kind path; do
    if [ "$kind" = dir ]; then rmdir "$path" 2>/dev/null || true; fi
  done
  info "The operation was successful"
}

do_verify() {
  [ -f "$CLP_ROOT/bin/SHA256SUMS" ] || fail "clp is not installed in $CLP_ROOT"
  (cd "$CLP_ROOT/bin" && sha256sum -c SHA256SUMS) && info "The operation was successful"
}

addon_dir() { if system_wide; then echo /usr/local/sbin; else echo "$CLP_ROOT/sbin"; fi; }

do_addon() {
  [ -f "$RECORD" ] || fail "clp is not installed in $CLP_ROOT: install it first"
  ask "Add-on the operation scripts." || return 0
  local dir
  dir=$(addon_dir)
  # make_dir records the folder it makes ($CLP_ROOT/sbin): uninstall removes it when empty.
  make_dir "$dir"
  echo "----- Add/Mod files -----"
  for name in clp_ml clp_mlftp clp_mltool; do
    [ -x "$CLP_ROOT/bin/$name" ] || continue
    ln -sfn "$CLP_ROOT/bin/$name" "$dir/$name"
    record addon "$dir/$name"
    printf 'Add:%s\n' "$dir/$name"
  done
  info "The operation was successful"
}

do_delete_addon() {
  [ -f "$RECORD" ] || fail "clp is not installed in $CLP_ROOT"
  ask "Delete the operation scripts." || return 0
  grep '^addon ' "$RECORD" | while read -r _ path; do
    rm -f "$path"
    printf 'Del:%s\n' "$path"
  done
  grep -v '^addon ' "$RECORD" >"$RECORD.partial" || true
  mv -f "$RECORD.partial" "$RECORD"
  info "The operation was successful"
}

do_readme() {
  cat <<'GUIDE'
----- clp quick installation guide -----
1. Install clp (menu 1). As root into /opt/clp the commands are linked into /usr/local/sbin;
   elsewhere add $CLP_ROOT/bin to PATH.
2. Register licenses: the trials (menu 2), or a key file: clplcncs -I KEYFILE -P XSS10.
3. Write $CLP_ROOT/etc/clp.conf and the scripts in $CLP_ROOT/etc/scripts/<group>/<resource>/
   (without a configuration, clp runs the default: one userw monitor).
4. Start the services: clp_ml start (or clpcl -s), and check: clpstat.
5. Collect logs for support: clplogcc; upload them: clp_mlftp.
GUIDE
}

menu() {
  while true; do
    cat <<MENU

[clp] ($(uname -m))
 1. Install clp                       *ver $VERSION
 2. Regist the TRIAL Licenses         *${PRODUCTS[*]}
 3. Uninstall clp
 4. Check the SHA-256 checksums
 5. Add-on operation scripts (clp_ml, clp_mlftp, clp_mltool)
 6. Delete operation scripts
 7. Read Me First! [Quick Installation Guide]
 Q. Quit

MENU
    local choice=""
    printf 'Select: (Q) > '
    read -r choice || choice=Q
    case "${choice:-Q}" in
      1)
        do_install
        [ -f "$RECORD" ] && do_trial
        ;;
      2) do_trial ;;
      3) do_uninstall ;;
      4) do_verify || true ;;
      5) do_addon ;;
      6) do_delete_addon ;;
      7) do_readme ;;
      q | Q) return 0 ;;
      *) echo "Choose 1-7 or Q." ;;
    esac
  done
}

# usage: the comment at the top of this file, up to its first line that is not a comment.
usage() {
  awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"
}

main() {
  if [ "${1:-}" = "--yes" ] || [ "${1:-}" = "-y" ]; then
    YES=1
    shift
  fi
  case "${1:-menu}" in
    menu) menu ;;
    install) do_install ;;
    trial) do_trial ;;
    uninstall) do_uninstall ;;
    verify) do_verify ;;
    addon) do_addon ;;
    readme) do_readme ;;
    -h | --help) usage ;;
    *) fail "unknown command '$1'; use install, trial, uninstall, verify, addon, readme or no argument for the menu" ;;
  esac
}

main "$@"
