complete -c clpmonctrl -s m -d 'The monitor (repeatable; every monitor when omitted)' -r
complete -c clpmonctrl -s w -d 'Seconds to wait (accepted; operations answer when done)' -r
complete -c clpmonctrl -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpmonctrl -s s -d 'Suspend monitoring'
complete -c clpmonctrl -s r -d 'Resume monitoring'
complete -c clpmonctrl -s c -d 'Clear the recovery counters (reactivation, failover, final action)'
complete -c clpmonctrl -s v -d 'Show the recovery counters'
complete -c clpmonctrl -s e -d 'Enable dummy failure: the monitor reports a fault without checking (needs -m)'
complete -c clpmonctrl -s n -d 'Disable dummy failure (every monitor when -m is omitted)'
complete -c clpmonctrl -l json -d 'JSON instead of the text layout (with -v)'
complete -c clpmonctrl -l help -d 'Print help'
complete -c clpmonctrl -s V -l version -d 'Print version'
