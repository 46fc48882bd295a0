package remediate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/remediate"
)

// TestConcurrentChangeBetweenRemoveAndAddLosesNoTrigger: a narrowing of
// an AddPermission statement is remove-permission then add-permission.
// When someone writes in between, the add meets a 412: the attempt is
// rolled back (the original statement comes back) and re-planned, so the
// trigger is never left out and the other writer's statement stays.
func TestConcurrentChangeBetweenRemoveAndAddLosesNoTrigger(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	plan := planWith(remediate.Options{Trust: demoTrust, NarrowToOrg: true}, e.collect(t), intake)
	if len(plan.Actions) != 1 || len(plan.Actions[0].Steps) != 2 || plan.Actions[0].Steps[1].Op != remediate.OpAddPermission {
		t.Fatalf("want the public grant narrowed with remove-permission + add-permission, got %+v", plan.Actions)
	}
	fired := false
	exec := &hooked{Executor: e.exec, before: func(op string, ref remediate.Ref) {
		if op == "AddPermission" && !fired {
			fired = true
			addLate(t, e, intake)
		}
	}}
	sum := remediate.Apply(context.Background(), exec, plan, remediate.ApplyOptions{Store: &remediate.DirStore{Dir: t.TempDir()}})
	if sum.Applied != 1 {
		t.Fatalf("summary %+v %+v", sum, sum.Results[0])
	}
	r := sum.Results[0]
	if len(r.Attempts) != 2 || !strings.Contains(strings.Join(r.Messages, "\n"), "rolled back") || !strings.Contains(r.Attempts[0].Outcome, "412") {
		t.Errorf("want a first attempt stopped by a 412 and rolled back, then a second: %+v %q", r.Attempts, r.Messages)
	}
	got := e.policy(t, intake)
	if !strings.Contains(got, lateStatement) || !strings.Contains(got, `"Sid":"apigw-intake"`) {
		t.Errorf("a statement was lost:\n%s", got)
	}
	if strings.Count(got, `"Sid":"oops"`) != 1 || !strings.Contains(got, `"aws:PrincipalOrgID":"o-abc123def4"`) {
		t.Errorf("want the grant there once, narrowed to the organization:\n%s", got)
	}
}

// TestRestoreReversesRemoveAndAdd: a service grant pinned with
// remove-permission + add-permission is put back the same way, both
// steps, from the backup.
func TestRestoreReversesRemoveAndAdd(t *testing.T) {
	const ingest = "arn:aws:lambda:us-east-1:111122223333:function:scan-ingest"
	e := startEstate(t, emulator.Options{})
	original := e.policy(t, ingest)
	dir := t.TempDir()
	sum := remediate.Apply(context.Background(), e.exec, planFor(e.collect(t), ingest), remediate.ApplyOptions{Store: &remediate.DirStore{Dir: dir}})
	if sum.Applied != 1 {
		t.Fatalf("%+v", sum.Results[0])
	}
	fixed := e.policy(t, ingest)
	if !strings.Contains(fixed, `"StringEquals":{"AWS:SourceAccount":"111122223333"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::phi-scans-uploads"}`) {
		t.Fatalf("the S3 trigger is not there, pinned:\n%s", fixed)
	}
	backups, _, err := remediate.LoadBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := backups[0].Changes[0]; c.Via != remediate.OpAddPermission || c.Permission == nil || !c.Exact || c.Replacement == "" {
		t.Fatalf("the backup must hold both halves: %+v", c)
	}
	counts := e.srv.Counts()
	rr := remediate.Restore(context.Background(), e.exec, backups[0])
	if rr.Failed() || len(rr.Items) != 1 || rr.Items[0].Status != remediate.Restored {
		t.Fatalf("restore %+v", rr)
	}
	after := e.srv.Counts()
	if after["RemovePermission"]-counts["RemovePermission"] != 1 || after["AddPermission"]-counts["AddPermission"] != 1 || after["PutResourcePolicy"] != counts["PutResourcePolicy"] {
		t.Errorf("restore must remove the pinned statement and add the original back, calls before %v after %v", counts, after)
	}
	if got := e.policy(t, ingest); got != original {
		t.Errorf("not back byte for byte:\n%s\nwant\n%s", got, original)
	}
	// Again: already there, nothing written.
	rr = remediate.Restore(context.Background(), e.exec, backups[0])
	if rr.Failed() || rr.Items[0].Status != remediate.AlreadyThere {
		t.Errorf("second restore %+v", rr.Items)
	}
}

// failFirstAdd fails the first AddPermission as a 5xx would.
type failFirstAdd struct {
	remediate.Executor
	failed bool
}

func (f *failFirstAdd) AddPermission(ctx context.Context, ref remediate.Ref, p remediate.Permission, rev string) (string, error) {
	if !f.failed {
		f.failed = true
		return "", errors.New("ServiceException: injected")
	}
	return f.Executor.AddPermission(ctx, ref, p, rev)
}

// TestFailedAddAfterRemoveIsRolledBack: when the add-permission half of a
// narrowing fails, the removed statement is put back: the resource ends
// as it was, never without its trigger.
func TestFailedAddAfterRemoveIsRolledBack(t *testing.T) {
	const ingest = "arn:aws:lambda:us-east-1:111122223333:function:scan-ingest"
	e := startEstate(t, emulator.Options{})
	original := e.policy(t, ingest)
	sum := remediate.Apply(context.Background(), &failFirstAdd{Executor: e.exec}, planFor(e.collect(t), ingest), remediate.ApplyOptions{Store: &remediate.DirStore{Dir: t.TempDir()}})
	if sum.Failed != 1 {
		t.Fatalf("want the resource failed, got %+v", sum)
	}
	r := sum.Results[0]
	if !strings.Contains(strings.Join(r.Messages, "\n"), "rolled back") {
		t.Errorf("the result must say it rolled back: %q", r.Messages)
	}
	if got := e.policy(t, ingest); got != original {
		t.Errorf("the trigger is not back as it was:\n%s\nwant\n%s", got, original)
	}
}
