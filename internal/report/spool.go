package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/lambdawarden/lambdawarden/internal/finding"
)

// Spool keeps a scan's judged resources in a temporary file, one JSON
// line each, so a scan of 100,000 functions does not hold them all in
// memory: what stays is a small index entry per resource (its ARN, the
// fields writers order and count by, each finding's rule, severity and
// suppression, and where the line is) and the running summary. Writers
// read resources back one at a time through the document (UseSpool).
//
// Add takes the resource as final: apply suppressions before it, since
// the summary and the index are counted as resources arrive.
type Spool struct {
	mu   sync.Mutex
	f    *os.File
	name string // the file's name while it still has to be removed
	w    *bufio.Writer
	buf  bytes.Buffer
	enc  *json.Encoder
	size int64
	strs map[string]string
	idx  index
	sum  Summary
	used bool // handed to a document: no more Add
	shut bool
}

// NewSpool creates the spool file in dir ("" means the system's
// temporary directory). Where the system allows it the file is unlinked
// at once, so it disappears with the process even when the process is
// killed; elsewhere Close removes it.
func NewSpool(dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, "lambdawarden-spool-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{f: f, name: f.Name(), w: bufio.NewWriterSize(f, 256<<10), strs: map[string]string{}, sum: newSummary()}
	if os.Remove(f.Name()) == nil {
		s.name = ""
	}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	s.idx.file = f
	return s, nil
}

// Add writes one judged resource to the spool and counts it. It is safe
// to call from several goroutines.
func (s *Spool) Add(r *Resource) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used || s.shut {
		return errors.New("spool: Add after the spool was handed to a document or closed")
	}
	s.buf.Reset()
	if err := s.enc.Encode(r); err != nil {
		return fmt.Errorf("spool %s: %w", r.ARN, err)
	}
	n := s.buf.Len()
	if n > math.MaxInt32 {
		return fmt.Errorf("spool %s: resource of %d bytes is too large", r.ARN, n)
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	it := newItem(r, s.intern)
	it.off, it.size = s.size, int32(n)
	s.size += int64(n)
	s.idx.items = append(s.idx.items, it)
	s.sum.add(r)
	return nil
}

// Len is the number of resources added.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.idx.items)
}

// Close closes and removes the spool file. It is safe to call more than
// once; a document using the spool cannot be written afterwards.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return nil
	}
	s.shut = true
	err := s.f.Close()
	if s.name != "" {
		if rerr := os.Remove(s.name); rerr != nil && err == nil {
			err = rerr
		}
		s.name = ""
	}
	return err
}

// intern returns one shared copy of a string that many resources repeat
// (account, Region, kind, status, exposure, rule id), so the index holds
// each only once.
func (s *Spool) intern(v string) string {
	if c, ok := s.strs[v]; ok {
		return c
	}
	s.strs[v] = v
	return v
}

// UseSpool makes the spool the document's resources, in ARN order as a
// scan reports them, and takes its summary. The document must have no
// Resources of its own; no resource can be added to the spool afterwards.
// Close the document (or the spool) when done with it.
func (d *Document) UseSpool(s *Spool) error {
	if len(d.Resources) > 0 {
		return errors.New("spool: the document already has resources in memory")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return errors.New("spool: closed")
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if !s.used {
		s.used = true
		slices.SortStableFunc(s.idx.items, func(a, b item) int { return strings.Compare(a.ARN, b.ARN) })
	}
	d.spool = s
	d.Summary = s.sum.clone()
	return nil
}

// item is what the report keeps in memory of one resource: the small
// fields writers order, group and count by, each finding's verdict, and
// where the rest is (a line of the spool, or the resource itself for a
// document in memory).
type item struct {
	ARN, Kind, Account, Region, Status, Exposure string
	hits                                         []hit
	off                                          int64
	size                                         int32
	unchecked                                    bool // some checks could not run
	res                                          *Resource
}

// hit is one finding as the index keeps it.
type hit struct {
	rule       string
	severity   finding.Severity
	suppressed bool
}

func newItem(r *Resource, intern func(string) string) item {
	it := item{
		ARN: r.ARN, Kind: intern(r.Kind), Account: intern(r.Account), Region: intern(r.Region),
		Status: intern(r.Status), Exposure: intern(r.Exposure), unchecked: len(r.Unchecked) > 0,
	}
	if len(r.Findings) > 0 {
		it.hits = make([]hit, len(r.Findings))
		for i, f := range r.Findings {
			it.hits[i] = hit{rule: intern(f.RuleID), severity: f.Severity, suppressed: f.Suppressed}
		}
	}
	return it
}

// stub is a resource with the index's fields only, for output that needs
// no more (an OCSF resource object, a JUnit pass).
func (it *item) stub() *Resource {
	return &Resource{ARN: it.ARN, Kind: it.Kind, Account: it.Account, Region: it.Region, Status: it.Status, Exposure: it.Exposure}
}

// worstOpen is the highest severity among unsuppressed findings, and
// whether there is one.
func (it *item) worstOpen() (finding.Severity, bool) {
	worst, ok := finding.Severity(0), false
	for _, h := range it.hits {
		if !h.suppressed && (!ok || h.severity > worst) {
			worst, ok = h.severity, true
		}
	}
	return worst, ok
}

// index is the document's resources as writers walk them: items in
// document order, and the order most formats list them in (account,
// Region, ARN), computed once.
type index struct {
	items     []item
	file      *os.File // nil for a document in memory
	placeOnce sync.Once
	place     []int32
}

// index returns the document's index: the spool's, or one built now over
// the Resources slice (so changes made to it since are seen).
func (d *Document) index() *index {
	if d.spool != nil {
		return &d.spool.idx
	}
	x := &index{items: make([]item, len(d.Resources))}
	same := func(s string) string { return s }
	for i := range d.Resources {
		x.items[i] = newItem(&d.Resources[i], same)
		x.items[i].res = &d.Resources[i]
	}
	return x
}

// placed is the items in account, Region, ARN order (stable, so equal
// keys keep document order).
func (x *index) placed() []int32 {
	x.placeOnce.Do(func() {
		x.place = make([]int32, len(x.items))
		for i := range x.place {
			x.place[i] = int32(i)
		}
		sort.SliceStable(x.place, func(i, j int) bool {
			a, b := &x.items[x.place[i]], &x.items[x.place[j]]
			if a.Account != b.Account {
				return a.Account < b.Account
			}
			if a.Region != b.Region {
				return a.Region < b.Region
			}
			return a.ARN < b.ARN
		})
	})
	return x.place
}

// load returns item i's resource, read back from the spool when it is
// not in memory.
func (x *index) load(i int) (*Resource, error) {
	it := &x.items[i]
	if it.res != nil {
		return it.res, nil
	}
	return x.read(it, make([]byte, it.size))
}

func (x *index) read(it *item, buf []byte) (*Resource, error) {
	raw, err := x.raw(it, buf)
	if err != nil {
		return nil, err
	}
	var sr spooledResource
	if err := json.Unmarshal(raw, &sr); err != nil {
		return nil, fmt.Errorf("spool: decode %s: %w", it.ARN, err)
	}
	r := &sr.Resource
	if sr.Findings != nil {
		r.Findings = make([]finding.Finding, len(sr.Findings))
		for i := range sr.Findings {
			r.Findings[i] = sr.Findings[i].Finding
			r.Findings[i].Compliance = finding.Compliance(sr.Findings[i].Compliance)
		}
	}
	return r, nil
}

// raw reads an item's spool line: the resource's compact JSON.
func (x *index) raw(it *item, buf []byte) ([]byte, error) {
	buf = buf[:it.size]
	if _, err := x.file.ReadAt(buf, it.off); err != nil {
		return nil, fmt.Errorf("spool: read %s: %w", it.ARN, err)
	}
	return bytes.TrimSuffix(buf, []byte("\n")), nil
}

// spooledResource decodes a spool line. It is a Resource whose findings
// take their compliance mapping from a cache: the same few mappings
// repeat on every finding, and decoding them (finding.Compliance keeps
// the key order, token by token) was a third of the time it takes to
// read a resource back.
type spooledResource struct {
	Resource
	Findings []spooledFinding `json:"findings"`
}

type spooledFinding struct {
	finding.Finding
	Compliance cachedCompliance `json:"compliance"`
}

type cachedCompliance finding.Compliance

// complianceCache maps a compliance object's JSON to its value. It holds
// at most complianceCacheMax entries, so a document with endlessly
// different mappings only loses the speed-up.
var complianceCache = struct {
	sync.Mutex
	m map[string]finding.Compliance
}{m: map[string]finding.Compliance{}}

const complianceCacheMax = 256

func (c *cachedCompliance) UnmarshalJSON(b []byte) error {
	complianceCache.Lock()
	v, ok := complianceCache.m[string(b)]
	complianceCache.Unlock()
	if !ok {
		if err := v.UnmarshalJSON(b); err != nil {
			return err
		}
		complianceCache.Lock()
		if len(complianceCache.m) < complianceCacheMax {
			complianceCache.m[string(b)] = v
		}
		complianceCache.Unlock()
	}
	// The list is each resource's own; the requirements' id lists are
	// shared between resources, and writers only read them.
	*c = cachedCompliance(slices.Clone(v))
	return nil
}

// eachRaw calls fn with every spooled resource's compact JSON (as
// json.Encoder with SetEscapeHTML(false) wrote it, without the newline),
// in document order; the json writer indents it instead of decoding and
// encoding again. The slice is reused: fn must not keep it.
func (x *index) eachRaw(fn func(raw []byte) error) error {
	var buf []byte
	for i := range x.items {
		it := &x.items[i]
		if cap(buf) < int(it.size) {
			buf = make([]byte, it.size)
		}
		raw, err := x.raw(it, buf)
		if err != nil {
			return err
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	return nil
}

// each calls fn with every item's position and resource, in document
// order or in the given order (from placed). A spooled resource is
// decoded afresh for each call, so fn may keep it.
func (x *index) each(order []int32, fn func(i int, r *Resource) error) error {
	var buf []byte
	for k := range x.items {
		i := k
		if order != nil {
			i = int(order[k])
		}
		it := &x.items[i]
		r := it.res
		if r == nil {
			if cap(buf) < int(it.size) {
				buf = make([]byte, it.size)
			}
			var err error
			if r, err = x.read(it, buf); err != nil {
				return err
			}
		}
		if err := fn(i, r); err != nil {
			return err
		}
	}
	return nil
}
