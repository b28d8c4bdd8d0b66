package setpay
import (
 _ "golang.org/x/crypto/cryptobyte"
 _ "modernc.org/sqlite"
 _ "github.com/spf13/cobra"
 _ "github.com/cloudflare/circl/sign/mldsa/mldsa65"
 _ "github.com/rogpeppe/go-internal/testscript"
 _ "pgregory.net/rapid"
)
