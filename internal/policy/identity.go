package policy

// AdminStatement returns the first Allow statement of an identity policy
// that grants every action on every resource ("*" on "*"), the shape of
// AdministratorAccess. Conditions do not make it less administrative
// here: the caller reports them.
func (d *Document) AdminStatement() *Statement {
	for _, s := range d.Statements {
		if s.Effect != Allow || !s.HasAction || !s.HasResource || s.NotResource != nil {
			continue
		}
		everyAction, everyResource := false, false
		for _, a := range s.Action {
			if a == "*" || a == "*:*" {
				everyAction = true
			}
		}
		for _, r := range s.Resource {
			if r == "*" {
				everyResource = true
			}
		}
		if everyAction && everyResource {
			return s
		}
	}
	return nil
}
