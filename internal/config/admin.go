package config

import (
	"fmt"
	"strings"

	"github.com/exchange-sim/exchange/internal/refdata"
)

// AdminFile is the `admin:` section as written in YAML: the bearer tokens of
// the operator console, each stored as a bcrypt hash.
type AdminFile struct {
	Tokens []struct {
		Name string `yaml:"name"`
		Role string `yaml:"role"`
		Hash string `yaml:"hash"`
	} `yaml:"tokens"`
}

func (c *Config) resolveAdmin(f *File) error {
	c.ListenAdmin = orString(f.Listen.Admin, "127.0.0.1:8081")
	seen := map[string]bool{}
	for i, t := range f.Admin.Tokens {
		where := fmt.Sprintf("admin.tokens[%d]", i)
		if t.Name == "" || len(t.Name) > refdata.OperatorNameMax || strings.ContainsAny(t.Name, " \t\r\n") {
			return fmt.Errorf("%s.name: %q must be 1 to %d characters without spaces", where, t.Name, refdata.OperatorNameMax)
		}
		if seen[t.Name] {
			return fmt.Errorf("%s.name: %q is used twice", where, t.Name)
		}
		seen[t.Name] = true
		role := refdata.AdminRole(t.Role)
		if role != refdata.RoleViewer && role != refdata.RoleOperator {
			return fmt.Errorf("%s.role: %q is not viewer or operator", where, t.Role)
		}
		if !strings.HasPrefix(t.Hash, "$2a$") && !strings.HasPrefix(t.Hash, "$2b$") && !strings.HasPrefix(t.Hash, "$2y$") {
			return fmt.Errorf("%s.hash: must be a bcrypt hash ($2a$/$2b$/$2y$...); make one with `exchange passwd`", where)
		}
		c.AdminTokens = append(c.AdminTokens, refdata.AdminToken{Name: t.Name, Role: role, Hash: t.Hash})
	}
	return nil
}
