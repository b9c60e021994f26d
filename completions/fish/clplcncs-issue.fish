complete -c clplcncs-issue -l new-key -d 'Write a new private key to PRIVATE (mode 0600) and its public key to PRIVATE.pub' -r -F
complete -c clplcncs-issue -l key -d 'Sign with this private key' -r -F
complete -c clplcncs-issue -s P -d 'The product id' -r
complete -c clplcncs-issue -l kind -d 'product (perpetual), fixed (between dates) or trial' -r
complete -c clplcncs-issue -l count -d 'Licensed count' -r
complete -c clplcncs-issue -l start -d 'First valid day, YYYYMMDD (default today)' -r
complete -c clplcncs-issue -l end -d 'Last valid day, YYYYMMDD (fixed and trial)' -r
complete -c clplcncs-issue -l user -d 'The licensee' -r
complete -c clplcncs-issue -s h -l help -d 'Print help'
complete -c clplcncs-issue -s V -l version -d 'Print version'
