package cadir

import (
	"encoding/asn1"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
)

// The registration forms of config.json: per cardholder issuer (a
// bin_ranges entry) and for the acquirer's records (the merchant and
// payment CAs), a form in the default language and the same form in other
// languages by language tag:
//
//	"bin_ranges": [{"low": "400000", "high": "499999",
//	  "form":  {"id": 10, "fields": [
//	    {"name": "Full name", "desc": "as on the card", "len": 60, "required": true},
//	    {"name": "Campaign", "type": "hidden", "value": "spring"}]},
//	  "forms": {"fr": {"id": 11, "fields": [
//	    {"name": "Nom complet", "len": 60, "required": true}]}}}],
//	"acquirer_form":  {"id": 20, "fields": [{"name": "Legal name", "required": true}]},
//	"acquirer_forms": {"fr": {"id": 21, "fields": [{"name": "Legal name", "desc": "Raison sociale", "required": true}]}}
//
// An acquirers entry may have its own "form" and "forms", which replace
// acquirer_form and acquirer_forms for that merchant or gateway.
//
// A field's type is "text" (the default: the applicant answers it) or
// "hidden" (sent with its value, which comes back as sent). The checks on
// load are those the CAs would otherwise fail on at the first request, or
// never: see Form.template and checkForms.

// Form is a registration form (RegTemplate) as config.json writes it.
type Form struct {
	ID           int64       `json:"id"`
	BrandLogoURL string      `json:"brand_logo_url,omitempty"`
	CardLogoURL  string      `json:"card_logo_url,omitempty"`
	Fields       []FormField `json:"fields"`
}

// FormField is one field of a Form (RegField).
type FormField struct {
	Name     string `json:"name"`
	Desc     string `json:"desc,omitempty"`
	Type     string `json:"type,omitempty"` // "text" (default) or "hidden"
	Len      int    `json:"len,omitempty"`  // the longest answer; 0 means 128
	Required bool   `json:"required,omitempty"`
	Value    string `json:"value,omitempty"` // a hidden field's value
	OID      string `json:"oid,omitempty"`   // fieldId, dotted
}

// msg's bounds on a RegTemplate's strings, which are all VisibleString:
// printable ASCII only (SET 1997 has no other string type in the form).
const (
	maxFieldLen  = 128
	maxFieldName = 128
	maxFieldDesc = 512
	maxURL       = 512
)

// visible checks that s, named what, is a VisibleString of at most max
// characters.
func visible(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s is longer than %d characters", what, max)
	}
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("%s has %q: SET's registration forms are printable ASCII only (VisibleString)", what, c)
		}
	}
	return nil
}

// template checks f and returns it as a RegTemplate; where names the form
// in errors.
func (f *Form) template(where string) (*msg.RegTemplate, error) {
	if f == nil {
		return nil, fmt.Errorf("%s: null form", where)
	}
	if f.ID < 1 {
		return nil, fmt.Errorf("%s: id %d: want a positive form ID", where, f.ID)
	}
	if len(f.Fields) == 0 {
		return nil, fmt.Errorf("%s: no fields", where)
	}
	if err := visible("brand_logo_url", f.BrandLogoURL, maxURL); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := visible("card_logo_url", f.CardLogoURL, maxURL); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	t := &msg.RegTemplate{RegFormID: f.ID, BrandLogoURL: f.BrandLogoURL, CardLogoURL: f.CardLogoURL}
	seen := map[string]bool{}
	for i, fd := range f.Fields {
		at := fmt.Sprintf("%s: field %d", where, i+1)
		if fd.Name == "" {
			return nil, fmt.Errorf("%s: no name", at)
		}
		at += fmt.Sprintf(" (%q)", fd.Name)
		for _, v := range []struct {
			what, s string
			max     int
		}{{"name", fd.Name, maxFieldName}, {"desc", fd.Desc, maxFieldDesc}, {"value", fd.Value, maxFieldLen}} {
			if err := visible(v.what, v.s, v.max); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
		}
		if seen[fd.Name] {
			return nil, fmt.Errorf("%s: duplicate field name", at)
		}
		seen[fd.Name] = true
		rf := msg.RegField{FieldName: fd.Name, FieldDesc: fd.Desc, FieldLen: fd.Len, FieldRequired: fd.Required}
		switch fd.Type {
		case "", "text":
			if fd.Value != "" {
				return nil, fmt.Errorf("%s: a text field has no value (the applicant answers it); use type \"hidden\"", at)
			}
		case "hidden":
			rf.FieldInvisible, rf.FieldValue = true, fd.Value
			if fd.Value == "" && fd.Required {
				return nil, fmt.Errorf("%s: a required hidden field needs a value", at)
			}
		default:
			return nil, fmt.Errorf("%s: unknown field type %q (want \"text\" or \"hidden\")", at, fd.Type)
		}
		if fd.Len < 0 || fd.Len > maxFieldLen {
			return nil, fmt.Errorf("%s: len %d outside 1..%d", at, fd.Len, maxFieldLen)
		}
		if len(fd.Value) > rf.MaxLen() {
			return nil, fmt.Errorf("%s: value longer than len %d", at, rf.MaxLen())
		}
		if fd.OID != "" {
			oid, err := parseOID(fd.OID)
			if err != nil {
				return nil, fmt.Errorf("%s: oid %q: %w", at, fd.OID, err)
			}
			rf.FieldID = oid
		}
		t.RegFieldSeq = append(t.RegFieldSeq, rf)
	}
	return t, nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("want a dotted object identifier such as 2.23.42.1")
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return nil, fmt.Errorf("arc %q is not a number", p)
		}
		oid[i] = n
	}
	if oid[0] > 2 || (oid[0] < 2 && oid[1] > 39) {
		return nil, fmt.Errorf("no such first arcs %d.%d", oid[0], oid[1])
	}
	return oid, nil
}

// formSet is a default form and its translations, checked: the forms'
// IDs are recorded in ids, which must not have them yet, since a CertReq
// is matched to its form by ID alone.
func formSet(where string, def *Form, forms map[string]*Form, ids map[int64]string, legalName bool) (*msg.RegTemplate, map[string]*msg.RegTemplate, error) {
	type named struct {
		where string
		form  *Form
		lang  string // "" for the default form
	}
	var out *msg.RegTemplate
	var all []named
	if def != nil {
		all = append(all, named{where + " form", def, ""})
	}
	langs := make([]string, 0, len(forms))
	for lang := range forms {
		langs = append(langs, lang)
	}
	sort.Strings(langs) // errors name the same form every time
	lower := map[string]string{}
	for _, lang := range langs {
		if !validTag(lang) {
			return nil, nil, fmt.Errorf("%s forms: %q is not a language tag (such as \"fr\" or \"fr-CA\")", where, lang)
		}
		if prev, ok := lower[strings.ToLower(lang)]; ok {
			return nil, nil, fmt.Errorf("%s forms: %q and %q are the same language", where, prev, lang)
		}
		lower[strings.ToLower(lang)] = lang
		all = append(all, named{fmt.Sprintf("%s forms[%q]", where, lang), forms[lang], lang})
	}
	var byLang map[string]*msg.RegTemplate
	for _, f := range all {
		t, err := f.form.template(f.where)
		if err != nil {
			return nil, nil, err
		}
		if other, ok := ids[t.RegFormID]; ok {
			return nil, nil, fmt.Errorf("%s: id %d is also %s's: every form needs its own ID", f.where, t.RegFormID, other)
		}
		ids[t.RegFormID] = f.where
		if legalName && !hasField(t, ca.FieldLegalName) {
			return nil, nil, fmt.Errorf("%s: no %q field: the CA checks it against the acquirer's records", f.where, ca.FieldLegalName)
		}
		if f.lang == "" {
			out = t
			continue
		}
		if byLang == nil {
			byLang = map[string]*msg.RegTemplate{}
		}
		byLang[f.lang] = t
	}
	return out, byLang, nil
}

func hasField(t *msg.RegTemplate, name string) bool {
	for _, f := range t.RegFieldSeq {
		if f.FieldName == name && !f.FieldInvisible {
			return true
		}
	}
	return false
}

// validTag reports whether s looks like a BCP 47 language tag: subtags
// of 1 to 8 letters or digits joined by hyphens, the first letters only.
func validTag(s string) bool {
	for i, sub := range strings.Split(s, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for _, c := range sub {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// forms checks every form of cfg and returns the issuers and the
// acquirer's records with their forms, ready for ca.Config.
func (cfg *Config) forms() (issuers []ca.Issuer, records *ca.AcquirerRecords, err error) {
	ids := map[int64]string{}
	for i, r := range cfg.BINRanges {
		is := ca.Issuer{BINLow: r.Low, BINHigh: r.High, Policy: cfg.Brand + " cardholder certificate policy"}
		where := fmt.Sprintf("bin_ranges[%d]", i)
		if is.Form, is.Forms, err = formSet(where, r.Form, r.Forms, ids, false); err != nil {
			return nil, nil, err
		}
		issuers = append(issuers, is)
	}
	// The merchant and payment CAs have their own form IDs, and each
	// acquirer record with forms its own set: the CA looks a RegFormID up
	// only among the forms of the record the applicant was vetted as.
	records = &ca.AcquirerRecords{}
	if records.Form, records.Forms, err = formSet("acquirer", cfg.AcquirerForm, cfg.AcquirerForms, acquirerIDs(cfg.AcquirerForm), true); err != nil {
		return nil, nil, err
	}
	for i, a := range cfg.Acquirers {
		if err := a.check(); err != nil {
			return nil, nil, fmt.Errorf("acquirers[%d]: %w", i, err)
		}
		rec := ca.AcquirerRecord{AcquirerBIN: a.AcquirerBIN, MerID: a.MerID, BusinessID: a.BusinessID, Name: a.Name, City: a.City, Country: a.Country}
		if rec.Form, rec.Forms, err = formSet(fmt.Sprintf("acquirers[%d]", i), a.Form, a.Forms, acquirerIDs(a.Form), true); err != nil {
			return nil, nil, err
		}
		records.Records = append(records.Records, rec)
	}
	return issuers, records, nil
}

// acquirerIDs is the form IDs an acquirer form set starts with: without
// a default form, the set's default is ca.DefaultAcquirerForm, whose ID
// the translations must not take.
func acquirerIDs(def *Form) map[int64]string {
	if def != nil {
		return map[int64]string{}
	}
	return map[int64]string{ca.DefaultAcquirerForm().RegFormID: "the built-in default form"}
}

// check refuses a record the merchant CA would fail on only when issuing
// (MerNames: a name and a city of 1 to 50 characters).
func (a *Acquirer) check() error {
	if a.AcquirerBIN == "" || a.Name == "" {
		return fmt.Errorf("acquirer_bin and name are required")
	}
	if len(a.Name) > 50 {
		return fmt.Errorf("name is longer than 50 characters")
	}
	if a.MerID != "" && (a.City == "" || len(a.City) > 50) {
		return fmt.Errorf("a merchant (mer_id %q) needs a city of 1 to 50 characters: its certificate carries it", a.MerID)
	}
	return nil
}
