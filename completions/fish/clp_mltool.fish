# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_clp_mltool_global_optspecs
    string join \n h/help V/version
end

function __fish_clp_mltool_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_clp_mltool_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_clp_mltool_using_subcommand
    set -l cmd (__fish_clp_mltool_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -s h -l help -d 'Print help'
complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -s V -l version -d 'Print version'
complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -f -a "messages" -d 'The alert log, newest last'
complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -f -a "licenses" -d 'The registered licenses and their state (as clplcncs -l)'
complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -f -a "drivers" -d 'The kernel drivers the configured userw methods need (never loads or opens anything)'
complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -f -a "verify" -d 'The installed binaries against the installer\'s manifest ($CLP_ROOT/bin/SHA256SUMS)'
complete -c clp_mltool -n "__fish_clp_mltool_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand messages" -s l -l level -d 'Only this level and worse: INFO, WARN or ERR' -r
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand messages" -s m -l module -d 'Only this module (pm, rc, rm, lcns, logcmd, ...)' -r
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand messages" -s s -l since -d 'Only from this time on ("YYYY/MM/DD HH:MM:SS", or a prefix such as "YYYY/MM/DD")' -r
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand messages" -s n -l count -d 'At most this many (the newest)' -r
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand messages" -l json -d 'JSON'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand messages" -s h -l help -d 'Print help'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand licenses" -s h -l help -d 'Print help'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand drivers" -l json -d 'JSON'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand drivers" -s h -l help -d 'Print help'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand verify" -s h -l help -d 'Print help'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand help; and not __fish_seen_subcommand_from messages licenses drivers verify help" -f -a "messages" -d 'The alert log, newest last'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand help; and not __fish_seen_subcommand_from messages licenses drivers verify help" -f -a "licenses" -d 'The registered licenses and their state (as clplcncs -l)'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand help; and not __fish_seen_subcommand_from messages licenses drivers verify help" -f -a "drivers" -d 'The kernel drivers the configured userw methods need (never loads or opens anything)'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand help; and not __fish_seen_subcommand_from messages licenses drivers verify help" -f -a "verify" -d 'The installed binaries against the installer\'s manifest ($CLP_ROOT/bin/SHA256SUMS)'
complete -c clp_mltool -n "__fish_clp_mltool_using_subcommand help; and not __fish_seen_subcommand_from messages licenses drivers verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
