# fish completion for sbx, and sbx-oci (`sbx oci`).
#
# The candidates come from `sbx __complete`, which reads the same option
# tables that drive sbx's own parsing and --help. A line __files__ or
# __dirs__ asks for path completion here, __commands__ for the host's
# programs (sbx unshare COMMAND). With --describe, an option or a command
# comes with its line of help after a tab, which fish shows beside it.

function __sbx_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l sbx $tokens[1]
    set -l words $tokens[2..-1]
    # sbx-oci is `sbx oci`: sbx, beside it, completes it.
    if test (path basename -- $sbx) = sbx-oci
        set words oci $words
        string match -q -- '*/*' $sbx; and set sbx (path dirname -- $sbx)/sbx
    end
    if not string match -q -- '*/*' $sbx; or not test -x $sbx
        set sbx sbx
    end
    # After "--opt=", only the value is a path.
    set -l head ''
    set -l value "$cur"
    if string match -qr -- '^--[^=]*=' "$cur"
        set head (string match -r -- '^--[^=]*=' "$cur")
        set value (string replace -r -- '^--[^=]*=' '' "$cur")
    end
    for c in (command $sbx __complete --describe -- $words "$cur" 2>/dev/null)
        switch $c
            case __files__
                for p in (__fish_complete_path "$value")
                    echo $head$p
                end
            case __dirs__
                for p in (__fish_complete_directories "$value")
                    echo $head$p
                end
            case __commands__
                complete -C "$value"
            case '*'
                echo $c
        end
    end
end

complete -c sbx -f -a '(__sbx_complete)'
complete -c sbx-oci -f -a '(__sbx_complete)'
