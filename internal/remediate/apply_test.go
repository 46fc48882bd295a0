package remediate_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/demo"
	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/remediate"
	"github.com/lambdawarden/lambdawarden/internal/remediate/awsexec"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

const (
	mgmt    = "111122223333"
	analyst = "222233334444"
	intake  = "arn:aws:lambda:us-east-1:111122223333:function:patient-intake"
	portal  = "arn:aws:lambda:us-east-1:111122223333:function:patient-portal"
)

var demoTrust = rules.Trust{OrgID: "o-abc123def4", Trusted: []string{mgmt, analyst}}

// estate is the demo estate on an in-process emulator, with what the
// tests need to read it and change it.
type estate struct {
	srv  *emulator.Server
	url  string
	exec *awsexec.Executor
}

func startEstate(t *testing.T, opts emulator.Options) *estate {
	t.Helper()
	seed, err := demo.Seed()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	exec, err := awsexec.New(context.Background(), awsexec.Config{EndpointURL: url, Credentials: creds(), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return &estate{srv: srv, url: url, exec: exec}
}

func creds() credentials.StaticCredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKIA"+mgmt, "secret", "")
}

// collect reads the whole estate as scan does.
func (e *estate) collect(t *testing.T) []*inventory.Resource {
	t.Helper()
	var out []*inventory.Resource
	var mu sync.Mutex
	_, err := awscollect.Collect(context.Background(), awscollect.Options{
		EndpointURL: e.url, Credentials: creds(), Regions: []string{"us-east-1", "eu-west-1"}, Accounts: []string{mgmt, analyst},
		Thorough: true, SkipRoles: true, Quotas: map[awscollect.Budget]float64{},
	}, func(r *inventory.Resource) {
		mu.Lock()
		out = append(out, r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// policies returns every policy document of the estate by ARN.
func (e *estate) policies(t *testing.T, resources []*inventory.Resource) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range resources {
		if r.Unknown != "" {
			continue
		}
		if doc, _, ok := e.srv.Policy(r.Account, r.Region, r.ARN); ok {
			out[r.ARN] = doc
		}
	}
	return out
}

func (e *estate) policy(t *testing.T, arn string) string {
	t.Helper()
	ref, err := remediate.ParseRef(arn)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := e.srv.Policy(ref.Account, ref.Region, arn)
	return doc
}

// memStore keeps backups in a directory and remembers the order of saves.
type memStore struct {
	remediate.DirStore
	saved []string
}

func (m *memStore) Save(b *remediate.Backup) (string, error) {
	p, err := m.DirStore.Save(b)
	m.saved = append(m.saved, b.Resource.ARN)
	return p, err
}

// hooked wraps an executor and calls before ahead of every write.
type hooked struct {
	remediate.Executor
	before func(op string, ref remediate.Ref)
}

func (h *hooked) RemovePermission(ctx context.Context, ref remediate.Ref, sid, rev string) error {
	h.before("RemovePermission", ref)
	return h.Executor.RemovePermission(ctx, ref, sid, rev)
}

func (h *hooked) PutResourcePolicy(ctx context.Context, ref remediate.Ref, doc, rev string) (string, error) {
	h.before("PutResourcePolicy", ref)
	return h.Executor.PutResourcePolicy(ctx, ref, doc, rev)
}

func (h *hooked) DeleteResourcePolicy(ctx context.Context, ref remediate.Ref, rev string) error {
	h.before("DeleteResourcePolicy", ref)
	return h.Executor.DeleteResourcePolicy(ctx, ref, rev)
}

func (h *hooked) UpdateFunctionURLAuthType(ctx context.Context, ref remediate.Ref, auth string) error {
	h.before("UpdateFunctionUrlConfig", ref)
	return h.Executor.UpdateFunctionURLAuthType(ctx, ref, auth)
}

func (h *hooked) RemoveLayerVersionPermission(ctx context.Context, ref remediate.Ref, sid, rev string) error {
	h.before("RemoveLayerVersionPermission", ref)
	return h.Executor.RemoveLayerVersionPermission(ctx, ref, sid, rev)
}

func (h *hooked) AddPermission(ctx context.Context, ref remediate.Ref, p remediate.Permission, rev string) (string, error) {
	h.before("AddPermission", ref)
	return h.Executor.AddPermission(ctx, ref, p, rev)
}

func planFor(resources []*inventory.Resource, arns ...string) *remediate.Plan {
	return planWith(remediate.Options{Trust: demoTrust}, resources, arns...)
}

func planWith(opt remediate.Options, resources []*inventory.Resource, arns ...string) *remediate.Plan {
	p := remediate.MakePlan(resources, opt)
	if len(arns) == 0 {
		return p
	}
	keep := &remediate.Plan{Unknown: p.Unknown}
	for _, a := range p.Actions {
		for _, arn := range arns {
			if a.Target.ARN == arn {
				keep.Actions = append(keep.Actions, a)
			}
		}
	}
	return keep
}

const lateStatement = `{"Sid":"late-addition","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:patient-intake","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:events:us-east-1:111122223333:rule/late"}}}`

// addLate is the concurrent writer: it adds a statement to the policy.
func addLate(t *testing.T, e *estate, arn string) {
	t.Helper()
	doc := e.policy(t, arn)
	i := strings.LastIndex(doc, "]")
	if err := e.srv.SetPolicy(mgmt, "us-east-1", arn, []byte(doc[:i]+","+lateStatement+doc[i:])); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentChangeDuringApplyIsReplannedNotClobbered(t *testing.T) {
	// RemovePermission and PutResourcePolicy (narrowing rewrites the whole
	// policy, the call that would overwrite a concurrent change).
	for name, opt := range map[string]remediate.Options{
		"remove-permission":   {Trust: demoTrust},
		"put-resource-policy": {Trust: demoTrust, NarrowToOrg: true},
	} {
		t.Run(name, func(t *testing.T) { concurrentChange(t, opt) })
	}
}

func concurrentChange(t *testing.T, opt remediate.Options) {
	e := startEstate(t, emulator.Options{})
	plan := planWith(opt, e.collect(t), intake)
	apigw := `{"Sid":"apigw-intake"`
	fired := false
	exec := &hooked{Executor: e.exec, before: func(op string, ref remediate.Ref) {
		// Between the apply's fresh read and its write: the write must
		// meet a 412, not overwrite this change.
		if !fired && ref.ARN == intake {
			fired = true
			addLate(t, e, intake)
		}
	}}
	store := &memStore{DirStore: remediate.DirStore{Dir: t.TempDir()}}
	sum := remediate.Apply(context.Background(), exec, plan, remediate.ApplyOptions{Store: store})
	if sum.Applied != 1 || sum.Failed != 0 {
		t.Fatalf("summary %+v: %+v", sum, sum.Results[0])
	}
	r := sum.Results[0]
	if !strings.Contains(strings.Join(r.Messages, "\n"), "412 PreconditionFailed") || !strings.Contains(strings.Join(r.Messages, "\n"), "re-planning") {
		t.Errorf("the result must say a 412 was met and the resource re-planned: %q", r.Messages)
	}
	if len(r.Backups) != 2 {
		t.Errorf("want a backup per attempt (2), got %v", r.Backups)
	}
	// Issue 10 item 10: every attempt's changes are listed, not only the
	// last one's.
	if len(r.Attempts) != 2 {
		t.Fatalf("want both attempts listed, got %+v", r.Attempts)
	}
	for i, at := range r.Attempts {
		if at.Attempt != i+1 || len(at.Changes) == 0 || len(at.Planned) == 0 || at.Backup != r.Backups[i] || at.RevisionID == "" {
			t.Errorf("attempt %d is not fully listed: %+v", i+1, at)
		}
	}
	if !strings.Contains(r.Attempts[0].Outcome, "412") || r.Attempts[1].Outcome != "applied" {
		t.Errorf("outcomes %q, %q: want the 412, then applied", r.Attempts[0].Outcome, r.Attempts[1].Outcome)
	}
	if r.Attempts[0].RevisionID == r.Attempts[1].RevisionID {
		t.Error("the second attempt must be planned on a fresh read")
	}
	if n := len(r.Attempts[0].Calls) + len(r.Attempts[1].Calls); n != len(r.Calls) {
		t.Errorf("the attempts list %d calls, the result %d", n, len(r.Calls))
	}
	got := e.policy(t, intake)
	if !strings.Contains(got, lateStatement) {
		t.Errorf("the concurrent change was lost:\n%s", got)
	}
	if !strings.Contains(got, apigw) || strings.Contains(got, `"Sid":"oops","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:patient-intake"}`) {
		t.Errorf("want oops fixed and apigw-intake kept:\n%s", got)
	}
	if e.srv.Counts()["GetPolicy"] < 2 {
		t.Error("the re-plan must rest on a fresh read")
	}
}

func TestChangeBetweenPlanAndApplyIsReadFirst(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	plan := planFor(e.collect(t), intake)
	addLate(t, e, intake) // after the plan, before the apply reads
	sum := remediate.Apply(context.Background(), e.exec, plan, remediate.ApplyOptions{Store: &remediate.DirStore{Dir: t.TempDir()}})
	if sum.Applied != 1 {
		t.Fatalf("summary %+v %+v", sum, sum.Results[0])
	}
	msgs := strings.Join(sum.Results[0].Messages, "\n")
	if !strings.Contains(msgs, "changed") || !strings.Contains(msgs, "re-planned") {
		t.Errorf("the result must say the policy changed since the plan: %q", msgs)
	}
	if got := e.policy(t, intake); !strings.Contains(got, lateStatement) || strings.Contains(got, `"Sid":"oops"`) {
		t.Errorf("policy after apply:\n%s", got)
	}
	for _, r := range e.srv.Requests() {
		if r.Status == 412 {
			t.Errorf("the apply read the policy first, so no write should meet a 412: %+v", r)
		}
	}
}

func TestStatementChangedSinceThePlanIsLeftAlone(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	plan := planFor(e.collect(t), intake)
	// Someone rewrites the flagged statement: it is no longer the one the
	// reviewed plan showed, so fix must not touch it.
	edited := strings.Replace(e.policy(t, intake), `"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:patient-intake"}`, `"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:patient-intake"}`, 1)
	if err := e.srv.SetPolicy(mgmt, "us-east-1", intake, []byte(edited)); err != nil {
		t.Fatal(err)
	}
	sum := remediate.Apply(context.Background(), e.exec, plan, remediate.ApplyOptions{Store: &remediate.DirStore{Dir: t.TempDir()}})
	if sum.Skipped != 1 {
		t.Fatalf("summary %+v %+v", sum, sum.Results[0])
	}
	if got := e.policy(t, intake); got != edited {
		t.Errorf("a statement that changed since the plan was touched:\n%s", got)
	}
}

func TestBackupIsDurableBeforeTheFirstWrite(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	plan := planFor(e.collect(t))
	dir := t.TempDir()
	store := &memStore{DirStore: remediate.DirStore{Dir: dir}}
	writes := 0
	exec := &hooked{Executor: e.exec, before: func(op string, ref remediate.Ref) {
		writes++
		// The backup of this resource must already be on disk, holding
		// the policy as it is right now.
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			data, _ := os.ReadFile(filepath.Join(dir, en.Name()))
			var b remediate.Backup
			if json.Unmarshal(data, &b) == nil && b.Resource.ARN == ref.ARN {
				return
			}
		}
		t.Errorf("%s on %s before its backup was written", op, ref.ARN)
	}}
	sum := remediate.Apply(context.Background(), exec, plan, remediate.ApplyOptions{Store: store})
	if sum.Failed != 0 || writes == 0 {
		t.Fatalf("summary %+v, %d writes", sum, writes)
	}
}

func TestRestoreAfterThePolicyChangedMergesAndReports(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	resources := e.collect(t)
	original := e.policy(t, intake)
	dir := t.TempDir()
	sum := remediate.Apply(context.Background(), e.exec, planFor(resources, intake), remediate.ApplyOptions{Store: &remediate.DirStore{Dir: dir}})
	if sum.Applied != 1 {
		t.Fatalf("%+v", sum.Results[0])
	}
	addLate(t, e, intake)
	backups, _, err := remediate.LoadBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	rr := remediate.Restore(context.Background(), e.exec, backups[0])
	if rr.Failed() || len(rr.Items) != 1 || rr.Items[0].Status != remediate.Restored {
		t.Fatalf("restore %+v", rr)
	}
	got := e.policy(t, intake)
	if !strings.Contains(got, lateStatement) {
		t.Errorf("restore overwrote a change made after the fix:\n%s", got)
	}
	var orig struct{ Statement []json.RawMessage }
	_ = json.Unmarshal([]byte(original), &orig)
	for _, s := range orig.Statement {
		if !strings.Contains(got, string(s)) {
			t.Errorf("statement %s is not back byte for byte:\n%s", s, got)
		}
	}
	// A second restore finds everything in place and writes nothing.
	writes := e.srv.Counts()["AddPermission"] + e.srv.Counts()["PutResourcePolicy"]
	rr = remediate.Restore(context.Background(), e.exec, backups[0])
	if rr.Failed() || rr.Items[0].Status != remediate.AlreadyThere {
		t.Errorf("second restore %+v", rr.Items)
	}
	if n := e.srv.Counts()["AddPermission"] + e.srv.Counts()["PutResourcePolicy"]; n != writes {
		t.Errorf("a second restore wrote %d time(s)", n-writes)
	}
}

func TestRestoreRefusesToOverwriteAReusedSid(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	dir := t.TempDir()
	sum := remediate.Apply(context.Background(), e.exec, planFor(e.collect(t), intake), remediate.ApplyOptions{Store: &remediate.DirStore{Dir: dir}})
	if sum.Applied != 1 {
		t.Fatalf("%+v", sum.Results[0])
	}
	reused := strings.Replace(lateStatement, "late-addition", "oops", 1)
	doc := e.policy(t, intake)
	i := strings.LastIndex(doc, "]")
	if err := e.srv.SetPolicy(mgmt, "us-east-1", intake, []byte(doc[:i]+","+reused+doc[i:])); err != nil {
		t.Fatal(err)
	}
	backups, _, _ := remediate.LoadBackups(dir)
	rr := remediate.Restore(context.Background(), e.exec, backups[0])
	if !rr.Failed() || !strings.Contains(rr.Items[0].Detail, "Sid oops") {
		t.Fatalf("restore over a reused Sid: %+v", rr.Items)
	}
	if got := e.policy(t, intake); !strings.Contains(got, reused) {
		t.Errorf("the newer statement was overwritten:\n%s", got)
	}
}

func TestInjectedFailuresLeaveEachResourceWholeOrFixed(t *testing.T) {
	// RemovePermission fails on some calls (seeded, so the run repeats):
	// patient-portal's second removal fails after its first succeeded,
	// which must be rolled back.
	e := startEstate(t, emulator.Options{Faults: []emulator.Fault{{Op: "RemovePermission", Kind: emulator.Fault500, Probability: 0.4}}, FaultSeed: 16})
	resources := e.collect(t)
	before := e.policies(t, resources)
	plan := planFor(resources)
	dir := t.TempDir()
	sum := remediate.Apply(context.Background(), e.exec, plan, remediate.ApplyOptions{Store: &remediate.DirStore{Dir: dir}})
	if sum.Failed == 0 || sum.Applied == 0 {
		t.Fatalf("the seed must give both failures and successes: %+v", sum)
	}
	after := e.policies(t, resources)
	backups, files, err := remediate.LoadBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	backed := map[string]bool{}
	for _, b := range backups {
		backed[b.Resource.ARN] = true
	}
	rolledBack := false
	for _, r := range sum.Results {
		arn := r.Target.ARN
		switch r.Status {
		case remediate.Failed:
			if after[arn] != before[arn] {
				t.Errorf("%s failed but is not as it was:\nbefore %s\nafter  %s\n%v", arn, before[arn], after[arn], r.Messages)
			}
			if arn == portal && strings.Contains(strings.Join(r.Messages, " "), "rolled back") {
				rolledBack = true
			}
		case remediate.Applied:
			if !backed[arn] {
				t.Errorf("%s was changed without a backup (%v)", arn, files)
			}
			for _, ch := range r.Action.Changes {
				if strings.Contains(after[arn], string(ch.Statement)) {
					t.Errorf("%s applied but still holds %s", arn, ch.Sid)
				}
			}
		}
	}
	if !rolledBack {
		t.Errorf("the seed no longer fails patient-portal half-way; pick one that does: %+v", sum.Results)
	}
	for arn, doc := range before {
		touched := false
		for _, a := range plan.Actions {
			touched = touched || (a.Target.ARN == arn && a.HasWork())
		}
		if !touched && after[arn] != doc {
			t.Errorf("%s was not in the plan but changed", arn)
		}
	}
}

func TestReadErrorsAreNotNoPolicy(t *testing.T) {
	e := startEstate(t, emulator.Options{})
	rs := remediate.ReadResources(context.Background(), e.exec, []string{
		"arn:aws:lambda:us-east-1:111122223333:function:secrets-rotator",
		"arn:aws:lambda:us-east-1:111122223333:function:appointment-scheduler:prod",
	})
	if rs[0].UnknownReason() == "" || !strings.Contains(rs[0].UnknownReason(), "AccessDenied") {
		t.Errorf("an unreadable policy must be unknown, got %+v", rs[0])
	}
	if rs[1].Policy == nil || rs[1].FunctionPolicy == nil {
		t.Errorf("an alias is read with its function's policy: %+v", rs[1])
	}
	var nf error = remediate.ErrNotFound
	err := e.exec.RemovePermission(context.Background(), remediate.Ref{ARN: intake, Kind: inventory.KindFunction, Account: mgmt, Region: "us-east-1", Name: "patient-intake"}, "no-such-sid", "")
	if !errors.Is(err, nf) {
		t.Errorf("a 404 on a write maps to ErrNotFound, got %v", err)
	}
}
