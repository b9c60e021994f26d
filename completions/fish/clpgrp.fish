complete -c clpgrp -s s -d 'Start GROUP (every group, in order, when omitted)' -r
complete -c clpgrp -s t -d 'Stop GROUP (every group, in reverse order, when omitted)' -r
complete -c clpgrp -s n -d 'Print the server where GROUP is active' -r
complete -c clpgrp -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpgrp -s f -d 'Force (accepted for scripts written for the original)'
complete -c clpgrp -l help -d 'Print help'
complete -c clpgrp -s V -l version -d 'Print version'
