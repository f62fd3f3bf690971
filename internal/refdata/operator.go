package refdata

// AdminRole is what an operator's admin token may do.
type AdminRole string

const (
	// RoleViewer may read venue status, sessions, accounts and actions.
	RoleViewer AdminRole = "viewer"
	// RoleOperator may also act: halt, kill switches, cancels, limits.
	RoleOperator AdminRole = "operator"
)

// AdminToken is one bearer token of the operator console: the operators'
// credentials, as a session's username and password hash are a firm's.
type AdminToken struct {
	Name string // who: journaled with every action the token takes (at most OperatorNameMax bytes)
	Role AdminRole
	Hash string // bcrypt hash of the token
}
