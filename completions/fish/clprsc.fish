complete -c clprsc -s s -d 'Start RESOURCE' -r
complete -c clprsc -s t -d 'Stop RESOURCE' -r
complete -c clprsc -s n -d 'Print the server where RESOURCE is active' -r
complete -c clprsc -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clprsc -s f -d 'Force (accepted for scripts written for the original)'
complete -c clprsc -l help -d 'Print help'
complete -c clprsc -s V -l version -d 'Print version'
