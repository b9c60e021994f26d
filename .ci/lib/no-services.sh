# Sourced by the installers under .ci/setup.d/ and benches/: while apt installs a package
# whose service the tests never use (they run their own instances), a policy-rc.d refuses
# every service start (101); the one that was there before comes back when the script
# exits. Usage: `refuse_service_starts WHO` (WHO names the script in the policy file).
refuse_service_starts() {
  _policy=/usr/sbin/policy-rc.d
  _saved=""
  if [ -e "$_policy" ]; then
    _saved=$(mktemp)
    cp -p "$_policy" "$_saved"
  fi
  trap _restore_policy EXIT
  printf '#!/bin/sh\n# clp %s: no service starts while it installs.\nexit 101\n' "$1" >"$_policy"
  chmod 755 "$_policy"
}

_restore_policy() {
  if [ -n "$_saved" ]; then
    mv -f "$_saved" "$_policy"
  else
    rm -f "$_policy"
  fi
}
