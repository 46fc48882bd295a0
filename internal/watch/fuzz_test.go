package watch_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/inventory"
	"github.com/lambdawarden/lambdawarden/internal/trail"
	"github.com/lambdawarden/lambdawarden/internal/watch"
)

// FuzzOffline feeds arbitrary requestParameters and responseElements to
// the --offline judge of every exposure-changing operation: it never
// crashes, and every event ends in alerts that are valid and say what
// their verdict rests on, or in nothing (a judged statement with no
// finding).
func FuzzOffline(f *testing.F) {
	f.Add(uint8(0), []byte(`{"functionName":"f","statementId":"s","action":"lambda:InvokeFunction","principal":"*"}`), []byte(`null`))
	f.Add(uint8(0), []byte(`{}`), []byte(`{"statement":"{\"Sid\":\"s\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:*\",\"Resource\":\"*\"}"}`))
	f.Add(uint8(2), []byte(`{"resourceArn":"x","policy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`), []byte(`null`))
	f.Add(uint8(4), []byte(`{"authType":"NONE","cors":{"allowOrigins":["*"],"allowCredentials":true}}`), []byte(`{}`))
	f.Add(uint8(7), []byte(`{"principal":"111122223333","action":"lambda:GetLayerVersion","organizationId":"o-x"}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, op uint8, req, resp []byte) {
		ev := trail.Event{ID: "e", Name: "x", Op: trail.Ops[int(op)%len(trail.Ops)], Time: time.Unix(0, 0), Region: "us-east-1", Account: "111122223333",
			Request: req, Response: resp}
		target := trail.Target{ARN: "arn:aws:lambda:us-east-1:111122223333:function:f", Kind: inventory.KindFunction, Account: "111122223333", Region: "us-east-1", Name: "f"}
		if ev.Op == trail.AddLayerVersionPermission || ev.Op == trail.RemoveLayerVersionPermission {
			target = trail.Target{ARN: "arn:aws:lambda:us-east-1:111122223333:layer:l:1", Kind: inventory.KindLayerVersion, Account: "111122223333", Region: "us-east-1", Name: "l", Qualifier: "1"}
		}
		ev.Targets = []trail.Target{target}
		w, got, _ := newWatcher(t, watch.Options{Offline: true, Dedupe: -1})
		w.Handle(context.Background(), trail.Result{Events: []trail.Event{ev}})
		for _, a := range got.all() {
			if a.Basis != watch.BasisStatement || (a.Status != watch.StatusFail && a.Status != watch.StatusUnknown) || a.ID == "" {
				t.Fatalf("alert %+v", a)
			}
			if a.Status == watch.StatusUnknown && a.Reason == "" {
				t.Fatalf("unknown without a reason: %+v", a)
			}
			if !json.Valid(a.Event.Request) || !json.Valid(a.Event.Response) {
				t.Fatalf("alert repeats invalid JSON: %s %s", a.Event.Request, a.Event.Response)
			}
		}
	})
}
