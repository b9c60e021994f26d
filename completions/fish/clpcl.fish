complete -c clpcl -s w -d 'Seconds to wait for the start or stop to complete' -r
complete -c clpcl -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpcl -s s -d 'Start the daemon'
complete -c clpcl -s t -d 'Stop the daemon: groups are stopped in reverse order'
complete -c clpcl -s r -d 'Restart the daemon'
complete -c clpcl -l suspend -d 'Suspend: monitoring stops, resources keep running'
complete -c clpcl -l resume -d 'Resume after --suspend'
complete -c clpcl -s a -d 'All servers (a single server here: accepted for scripts written for the original)'
complete -c clpcl -l force -d 'Suspend even if not every server is online (accepted; one server)'
complete -c clpcl -l help -d 'Print help'
complete -c clpcl -s V -l version -d 'Print version'
