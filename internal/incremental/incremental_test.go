package incremental

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	awscollect "github.com/lambdawarden/lambdawarden/internal/collect/aws"
	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/trail"
)

const fnPrefix = "arn:aws:lambda:us-east-1:111122223333:function:"

// fakeReader answers from fixed lists and records what was read. (The
// end-to-end tests in internal/cli drive the real reader against the
// emulator; this one reaches the cases the emulator cannot set up, such
// as a function created between two scans.)
type fakeReader struct {
	records  []string
	lookErr  error
	listed   []string
	listErr  error
	readFunc []string
	read     []string
}

func (f *fakeReader) LookupEventsIn(context.Context, string, string, time.Time, time.Time) ([]string, error) {
	return f.records, f.lookErr
}

func (f *fakeReader) ListFunctionARNs(context.Context, string, string) ([]string, error) {
	return f.listed, f.listErr
}

func (f *fakeReader) ReadFunction(_ context.Context, arn string) ([]awscollect.Read, error) {
	f.readFunc = append(f.readFunc, arn)
	return []awscollect.Read{{Resource: &inventory.Resource{ARN: arn, Kind: inventory.KindFunction}}}, nil
}

func (f *fakeReader) Read(_ context.Context, arn string) (awscollect.Read, error) {
	f.read = append(f.read, arn)
	return awscollect.Read{Resource: &inventory.Resource{ARN: arn, Kind: inventory.KindLayerVersion}}, nil
}

func base() *history.Snapshot {
	st := func(name, status string) history.ResourceState {
		return history.ResourceState{ARN: fnPrefix + name, Kind: "function", Account: "111122223333", Region: "us-east-1", Status: status, Exposure: "private"}
	}
	alias := st("kept", "evaluated")
	alias.ARN, alias.Kind = fnPrefix+"kept:live", "alias"
	return &history.Snapshot{
		Scan:      history.Scan{ID: 7, Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}},
		Resources: []history.ResourceState{st("kept", "evaluated"), alias, st("changed", "evaluated"), st("deleted", "evaluated"), st("was-unknown", "unknown")},
		Findings:  []history.SnapshotFinding{{Key: fnPrefix + "kept|lambda-not-in-vpc|", ARN: fnPrefix + "kept", RuleID: "lambda-not-in-vpc", Severity: "low"}},
	}
}

const addPermission = `{"eventVersion":"1.08","eventSource":"lambda.amazonaws.com","eventName":"AddPermission20150331v2","awsRegion":"us-east-1",
"recipientAccountId":"111122223333","eventTime":"2026-12-02T10:00:00Z","eventID":"e1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/x"},
"requestParameters":{"functionName":"changed","statementId":"s","action":"lambda:InvokeFunction","principal":"*"},"responseElements":{"statement":"{}"}}`

func run(t *testing.T, rd *fakeReader, opt Options) (Result, []string, []*report.Resource) {
	t.Helper()
	var read []string
	var carried []*report.Resource
	opt.Policy = func(context.Context, string) (string, error) { return "", nil }
	if opt.FullLane == nil {
		opt.FullLane = func(context.Context, Lane, func(*inventory.Resource)) ([]string, error) {
			t.Error("no lane should be scanned in full")
			return nil, nil
		}
	}
	res, err := Run(context.Background(), rd, opt, Emit{
		Read:    func(r *inventory.Resource) { read = append(read, r.ARN) },
		Carried: func(r *report.Resource) { carried = append(carried, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, read, carried
}

// TestRunReadsChangedNewAndUnknown: the changed function, the one created
// since and the one unknown before are read; the deleted one is dropped;
// the rest is carried, findings and all.
func TestRunReadsChangedNewAndUnknown(t *testing.T) {
	rd := &fakeReader{records: []string{addPermission}, listed: []string{fnPrefix + "kept", fnPrefix + "changed", fnPrefix + "was-unknown", fnPrefix + "created"}}
	res, read, carried := run(t, rd, Options{Base: base()})
	want := []string{fnPrefix + "changed", fnPrefix + "created", fnPrefix + "was-unknown"}
	if !slices.Equal(read, want) {
		t.Errorf("read %v, want %v", read, want)
	}
	if len(carried) != 2 || carried[0].ARN != fnPrefix+"kept" || !carried[0].CarriedForward || carried[0].CarriedFrom != 7 ||
		len(carried[0].Findings) != 1 || carried[0].Findings[0].RuleID != "lambda-not-in-vpc" || carried[1].ARN != fnPrefix+"kept:live" {
		t.Errorf("carried %+v", carried)
	}
	if res.Events != 1 || res.Rescanned != 3 || len(res.Carried) != 2 {
		t.Errorf("result %+v", res)
	}
}

// TestRunFallsBackToAFullLane: denied events or a failed listing scan the
// lane in full; nothing is carried.
func TestRunFallsBackToAFullLane(t *testing.T) {
	for name, rd := range map[string]*fakeReader{
		"lookup denied": {lookErr: errors.New("cloudtrail:LookupEvents: AccessDeniedException")},
		"list failed":   {listErr: errors.New("ListFunctions: throttled")},
		"bad record":    {records: []string{`{"eventSource":"lambda.amazonaws.com","eventName":"AddPermission","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventTime":"2026-12-02T10:00:00Z","requestParameters":{}}`}},
	} {
		t.Run(name, func(t *testing.T) {
			var full []Lane
			res, read, carried := run(t, rd, Options{Base: base(), FullLane: func(_ context.Context, l Lane, emit func(*inventory.Resource)) ([]string, error) {
				full = append(full, l)
				emit(&inventory.Resource{ARN: fnPrefix + "kept"})
				return nil, nil
			}})
			if len(full) != 1 || len(carried) != 0 || len(read) != 1 || len(res.FullLanes) != 1 {
				t.Errorf("full %v, read %v, carried %d, result %+v", full, read, len(carried), res)
			}
		})
	}
}

// TestRunFileEvents: events from files go to their lanes; events before
// Since are left out.
func TestRunFileEvents(t *testing.T) {
	evs := trail.ParseRecord("f", []byte(addPermission))
	rd := &fakeReader{lookErr: errors.New("must not be called"), listed: []string{fnPrefix + "kept", fnPrefix + "changed", fnPrefix + "was-unknown"}}
	res, read, _ := run(t, rd, Options{Base: base(), Events: &evs})
	if res.Events != 1 || !slices.Contains(read, fnPrefix+"changed") {
		t.Errorf("result %+v, read %v", res, read)
	}
	res, read, _ = run(t, rd, Options{Base: base(), Events: &evs, Since: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
	if res.Events != 0 || slices.Contains(read, fnPrefix+"changed") {
		t.Errorf("an event before --since counted: %+v, read %v", res, read)
	}
}

// TestStatementOf: a recorded statement reference finds its statement
// again, so the finding keeps its history key.
func TestStatementOf(t *testing.T) {
	pol := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"},{"Sid":"b","Effect":"Allow","Principal":"*","Action":"lambda:GetFunction"}]}`
	list, err := history.Statements(pol)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref, sid  string
		index     int
		policy    string
		wantIndex int
	}{
		{ref: list[0].ID(), wantIndex: 0},
		{ref: "sid:b", sid: "b", wantIndex: 1},
		{ref: "function/" + list[0].ID(), policy: "function", wantIndex: 0},
		{ref: "index:3", wantIndex: 3},
	} {
		st := statementOf(history.SnapshotFinding{StatementRef: c.ref, Sid: c.sid}, pol, pol)
		if st == nil || st.Index != c.wantIndex || st.Sid != c.sid || st.Policy != c.policy {
			t.Errorf("%s: %+v", c.ref, st)
		}
	}
	if statementOf(history.SnapshotFinding{}, pol, "") != nil {
		t.Error("no reference: no statement")
	}
}
