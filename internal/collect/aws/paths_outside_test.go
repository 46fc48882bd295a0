package awscollect_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Outside tests of access paths, end to end: the emulator's
// GetAccountAuthorizationDetails read by the real SDK client.

func partnerRole(name string, inline map[string]json.RawMessage) emulator.SeedRole {
	return emulator.SeedRole{Name: name, AssumeRolePolicy: trustedBy(`{"AWS":"arn:aws:iam::`+partnerAcct+`:root"}`, ""), InlinePolicies: inline}
}

func TestPathOutsideResourceARNForms(t *testing.T) {
	intake := fnARN(mgmt, "us-east-1", "intake")
	for _, c := range []struct {
		name, resource, want string
	}{
		{"unqualified ARN reaches only the unqualified function", intake, "intake"},
		{"alias ARN reaches only the alias", intake + ":prod", "intake:prod"},
		{"FN:* reaches the alias and the version, not the function", intake + ":*", "intake:1 intake:prod"},
		{"question mark matches one character", strings.TrimSuffix(intake, "e") + "?", "intake"},
		{"trailing star in the name reaches every qualifier", strings.TrimSuffix(intake, "ake") + "*", "intake intake:1 intake:prod"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, errs := pathFindings(t, pathEstate([]emulator.SeedRole{partnerRole("partner", invokeOn(c.resource))}), rules.Trust{}, "")
			if arns(got) != c.want || len(errs) != 0 {
				t.Fatalf("paths reach %q, want %q (errors %v)", arns(got), c.want, errs)
			}
		})
	}
}

func TestPathOutsideManagedAllowInlineDeny(t *testing.T) {
	managed := emulator.SeedManagedPolicy{Name: "lambda-all", Document: rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"}]}`)}
	r := partnerRole("partner", map[string]json.RawMessage{"no-billing": rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"` + fnARN(mgmt, "us-east-1", "billing") + `"}]}`)})
	r.AttachedPolicies = []string{"arn:aws:iam::" + mgmt + ":policy/lambda-all"}
	got, _, _ := pathFindings(t, pathEstate([]emulator.SeedRole{r}, managed), rules.Trust{}, "")
	if arns(got) != "claims intake intake:1 intake:prod" {
		t.Fatalf("paths reach %q: the inline Deny must take billing away", arns(got))
	}
}

func TestPathOutsideBoundaryDenyRemoves(t *testing.T) {
	boundary := emulator.SeedManagedPolicy{Name: "b", Document: rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"lambda:Invoke*","Resource":"*"}]}`)}
	r := partnerRole("partner", invokeOn("*"))
	r.PermissionsBoundary = "arn:aws:iam::" + mgmt + ":policy/b"
	if got, _, _ := pathFindings(t, pathEstate([]emulator.SeedRole{r}, boundary), rules.Trust{}, ""); len(got) != 0 {
		t.Fatalf("a boundary Deny must remove the path: %q", arns(got))
	}
}

func TestPathOutsideConditionalGrantIsKeptAndSaysSo(t *testing.T) {
	inline := map[string]json.RawMessage{"invoke": rawJSON(`{"Version":"2012-10-17","Statement":[{"Sid":"MFA","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)}
	got, _, _ := pathFindings(t, pathEstate([]emulator.SeedRole{partnerRole("partner", inline)}), rules.Trust{}, "")
	f := got[fnARN(mgmt, "us-east-1", "claims")]
	if len(f) != 1 || strings.Join(f[0].Path.ConditionalActions, ",") != "lambda:InvokeFunction" || !strings.Contains(f[0].Explanation, "not known at scan time") {
		t.Fatalf("a condition not known at scan time keeps the path, conditional: %+v", f)
	}
}

// A document IAM would reject (here "allow" in lower case) cannot be
// judged: the role's paths are unknown and the scan incomplete.
func TestPathOutsideUnparsablePoliciesAreUnknown(t *testing.T) {
	badTrust := rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"allow","Principal":{"AWS":"` + partnerAcct + `"},"Action":"sts:AssumeRole"}]}`)
	badPolicy := map[string]json.RawMessage{"invoke": rawJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"stringequals":{"aws:PrincipalTag/x":"y"}}}]}`)}
	for _, c := range []struct {
		name string
		role emulator.SeedRole
		says string
	}{
		{"trust policy", emulator.SeedRole{Name: "partner", AssumeRolePolicy: badTrust, InlinePolicies: invokeOn("*")}, "trust policy does not parse"},
		{"inline policy", partnerRole("partner", badPolicy), `policy "invoke" does not parse`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := rules.NewPathCache()
			got, all, _ := pathFindings(t, pathEstate([]emulator.SeedRole{c.role}), rules.Trust{Paths: cache}, "")
			if len(got) != 0 {
				t.Fatalf("no verdict from a document that does not parse: %q", arns(got))
			}
			if e := strings.Join(cache.Problems(), "\n"); !strings.Contains(e, "role/partner") || !strings.Contains(e, c.says) {
				t.Fatalf("the scan must be incomplete and name the role: %v", cache.Problems())
			}
			if n := strings.Join(all[fnARN(mgmt, "us-east-1", "billing")].Notes, " "); !strings.Contains(n, "access paths through it are unknown") {
				t.Errorf("the resource must say its paths are unknown: %s", n)
			}
		})
	}
}

// A GetAccountAuthorizationDetails page that says it is truncated but
// gives no Marker is a broken answer: the roles after it were never read,
// so the account's paths are unknown, not complete. The emulator's answer
// is passed through a proxy that drops the Marker.
func TestPathOutsideTruncatedWithoutMarkerIsUnknown(t *testing.T) {
	var roles []emulator.SeedRole
	for i := range 1001 {
		roles = append(roles, emulator.SeedRole{Name: "r" + strconv.Itoa(i), AssumeRolePolicy: trustedBy(`{"Service":"ec2.amazonaws.com"}`, "")})
	}
	roles = append(roles, partnerRole("zz-partner", invokeOn("*")))
	_, url := startEmulator(t, pathEstate(roles), emulator.Options{})
	target, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	marker := regexp.MustCompile(`<Marker>[^<]*</Marker>`)
	proxy.ModifyResponse = func(r *http.Response) error {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body.Close()
		if bytes.Contains(body, []byte("GetAccountAuthorizationDetailsResult")) {
			body = marker.ReplaceAll(body, nil)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	opt := options(front.URL, mgmt, "us-east-1")
	opt.Paths, opt.SkipRoles = true, false
	got, sum := collect(t, opt, rules.Trust{})
	r := got[fnARN(mgmt, "us-east-1", "claims")]
	for _, f := range r.Findings {
		if f.RuleID == "lambda-external-path-via-role" {
			t.Fatalf("a path from a broken answer: %+v", f)
		}
	}
	if !strings.Contains(strings.Join(sum.Errors, "\n"), "access paths through assumable roles are unknown") {
		t.Fatalf("a truncated answer without a Marker must make the scan incomplete: %v", sum.Errors)
	}
	if !strings.Contains(strings.Join(r.Notes, " "), "Access paths through assumable roles are unknown") {
		t.Errorf("notes %v", r.Notes)
	}
}
