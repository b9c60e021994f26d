complete -c clpcfctrl -s x -d 'The folder holding clp.conf and scripts/' -r -F
complete -c clpcfctrl -s o -d 'The folder --convert writes (new or empty)' -r -F
complete -c clpcfctrl -l keep -d 'How many pushed generations are kept for --rollback' -r
complete -c clpcfctrl -l wait -d 'Seconds clppm may take to stop and to start again (--apply)' -r
complete -c clpcfctrl -s h -d 'The server to ask: this one (its name, localhost or an address)' -r
complete -c clpcfctrl -l push -d 'Push the folder -x DIR (clp.conf and scripts/; ours or the original\'s XML): validate it, show the changes, make it the active configuration'
complete -c clpcfctrl -l pull -d 'Write the active clp.conf and scripts/ into the folder -x DIR'
complete -c clpcfctrl -l rollback -d 'Make the configuration before the active one active again'
complete -c clpcfctrl -l convert -d 'Convert the original\'s configuration in -x SRC into the folder -o DST (not applied)'
complete -c clpcfctrl -l list -d 'List the kept generations of the configuration'
complete -c clpcfctrl -s l -d 'Files made on Linux (the original\'s XML: EUC-JP when the file does not say)'
complete -c clpcfctrl -s w -d 'Files made on Windows (the original\'s XML: Shift_JIS when the file does not say)'
complete -c clpcfctrl -l apply -d 'Switch the running clppm to the new configuration: suspend/resume or restart, as the change needs. Alone: switch it to the active configuration'
complete -c clpcfctrl -l force -d 'Push a configuration made for another server'
complete -c clpcfctrl -l help -d 'Print help'
complete -c clpcfctrl -s V -l version -d 'Print version'
