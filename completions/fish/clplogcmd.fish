complete -c clplogcmd -s m -d 'The message (at most 511 bytes)' -r
complete -c clplogcmd -s l -d 'The level: INFO, WARN or ERR' -r
complete -c clplogcmd -s i -d 'The event id' -r
complete -c clplogcmd -l alert -d 'Write to the alert log'
complete -c clplogcmd -l syslog -d 'Write to syslog'
complete -c clplogcmd -l mail -d 'Mail the message through the alert service ([mail] in clp.conf)'
complete -c clplogcmd -l trap -d 'Send an SNMP trap (accepted; not supported)'
complete -c clplogcmd -s h -l help -d 'Print help'
complete -c clplogcmd -s V -l version -d 'Print version'
