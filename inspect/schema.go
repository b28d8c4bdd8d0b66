package inspect

import (
	"strings"

	"github.com/setpay/setpay/internal/der"
)

// field describes one component of a SEQUENCE for naming purposes.
type field struct {
	name     string
	typ      string
	ctx      int  // context tag number, -1 for a universal tag
	explicit bool // [ctx] EXPLICIT: the tag wraps the type
	optional bool
	univ     uint32 // universal tag number to require when optional (0 = any)
}

// schema is what inspect knows of a type: its SEQUENCE components, its
// CHOICE alternatives, or that it is a SEQUENCE OF / SET OF some type.
type schema struct {
	fields []field
	choice map[uint32]field
	of     string
}

func seq(fs ...field) schema  { return schema{fields: fs} }
func seqOf(typ string) schema { return schema{of: typ} }

// f is a required universal component.
func f(name, typ string) field { return field{name: name, typ: typ, ctx: -1} }

// optU is an optional universal component recognised by its tag number.
func optU(name, typ string, univ uint32) field {
	return field{name: name, typ: typ, ctx: -1, optional: true, univ: univ}
}

// imp is an optional [n] IMPLICIT component; exp an optional [n] EXPLICIT one.
func imp(n int, name, typ string) field {
	return field{name: name, typ: typ, ctx: n, optional: true}
}
func exp(n int, name, typ string) field {
	return field{name: name, typ: typ, ctx: n, explicit: true, optional: true}
}

// req makes a context-tagged component mandatory.
func req(fl field) field { fl.optional = false; return fl }

// assign pairs each child with the component it most plausibly is, walking
// the components in order and skipping absent optional ones.
func assign(fields []field, kids []der.Element) []field {
	out := make([]field, len(kids))
	j := 0
	for i, k := range kids {
		for j < len(fields) {
			fl := fields[j]
			if matches(fl, k) {
				out[i] = fl
				j++
				break
			}
			if !fl.optional {
				return out // the schema no longer fits; leave the rest unnamed
			}
			j++
		}
	}
	return out
}

func matches(fl field, k der.Element) bool {
	if fl.ctx >= 0 {
		return k.Tag.Class == der.ClassContextSpecific && k.Tag.Number == uint32(fl.ctx)
	}
	if k.Tag.Class != der.ClassUniversal {
		return false
	}
	return fl.univ == 0 || k.Tag.Number == fl.univ
}

// detect guesses the type of a top-level element from its shape.
func detect(e der.Element) string {
	if e.Tag != der.TagSequence {
		return ""
	}
	kids, err := e.Children()
	if err != nil || len(kids) < 2 {
		return ""
	}
	switch {
	case kids[0].Tag == der.TagOID && kids[1].Tag == der.Explicit(0):
		return "ContentInfo"
	case kids[0].Tag == der.TagSequence && kids[1].Tag == der.Explicit(0):
		return "MessageWrapper"
	case len(kids) == 3 && kids[0].Tag == der.TagSequence && kids[1].Tag == der.TagSequence && kids[2].Tag == der.TagBitString:
		tbs, err := kids[0].Children()
		if err == nil && len(tbs) > 0 && tbs[0].Tag == der.Explicit(0) {
			return "Certificate"
		}
		return "CertificateList"
	}
	return ""
}

// contentTypes maps a ContentInfo / eContentType OID to the type of the
// content that follows it.
var contentTypes = map[string]string{
	"1.2.840.113549.1.7.2":       "SignedData",
	"1.2.840.113549.1.7.3":       "EnvelopedData",
	"1.2.840.113549.1.7.5":       "DigestedData",
	"1.2.840.113549.1.9.16.1.23": "AuthEnvelopedData",
	"2.23.42.0.0":                "PANData",
	"2.23.42.0.1":                "PANToken",
	"2.23.42.0.3":                "OIData",
	"2.23.42.0.5":                "PIData",
	"2.23.42.0.6":                "PIDataUnsigned",
	"2.23.42.0.7":                "HODInput",
	"2.23.42.0.12":               "PInitResData",
	"2.23.42.0.13":               "PI-TBS",
	"2.23.42.0.14":               "PResData",
	"2.23.42.0.16":               "AuthReqTBS",
	"2.23.42.0.17":               "AuthResTBS",
	"2.23.42.0.26":               "CapReqTBS",
	"2.23.42.0.28":               "CapResData",
	"2.23.42.0.9":                "AuthRevReqBaggage",
	"2.23.42.0.10":               "AuthRevResBaggage",
	"2.23.42.0.20":               "CapTokenData",
	"2.23.42.0.23":               "AuthRevReqTBS",
	"2.23.42.0.24":               "AuthRevResData",
	"2.23.42.0.25":               "AuthRevResTBS",
	"2.23.42.0.29":               "CapRevOrCredReqTBS",
	"2.23.42.0.31":               "CapRevOrCredResData",
	"2.23.42.0.32":               "CapRevOrCredReqTBS",
	"2.23.42.0.34":               "CapRevOrCredResData",
	"2.23.42.0.35":               "CapRevOrCredReqTBS",
	"2.23.42.0.37":               "CapRevOrCredResData",
	"2.23.42.0.38":               "PCertReqData",
	"2.23.42.0.39":               "PCertResTBS",
	"2.23.42.0.40":               "BatchAdminReqData",
	"2.23.42.0.41":               "BatchAdminResData",
	"2.23.42.0.49":               "ErrorTBS",
	"2.23.42.0.2":                "PANOnly",
	"2.23.42.0.42":               "CardCInitResTBS",
	"2.23.42.0.43":               "Me-AqCInitResTBS",
	"2.23.42.0.44":               "RegFormResTBS",
	"2.23.42.0.45":               "CertReqData",
	"2.23.42.0.47":               "CertResData",
	"2.23.42.0.48":               "CertInqReqTBS",
	"2.23.42.0.80":               "CRLNotificationTBS",
	"2.23.42.0.81":               "CRLNotificationResTBS",
}

// schemas holds the types inspect can name, after the specification's ASN.1
// (verbatim where public, otherwise setpay's reconstruction in
// docs/spec-gaps.md).
var schemas = map[string]schema{
	// SetMessage
	"MessageWrapper": seq(f("messageHeader", "MessageHeader"), req(exp(0, "message", "Message")), imp(1, "mwExtensions", "MsgExtensions")),
	"MessageHeader": seq(f("version", "INTEGER"), optU("revision", "INTEGER", 2), f("date", "Date"),
		imp(0, "messageIDs", "MessageIDs"), imp(1, "rrpid", "RRPID"), f("swIdent", "SWIdent")),
	"MessageIDs": seq(imp(0, "lid-C", "LocalID"), imp(1, "lid-M", "LocalID"), imp(2, "xID", "XID")),
	"Message": {choice: map[uint32]field{
		0: {typ: "PInitReq"}, 1: {typ: "PInitRes"}, 2: {typ: "PReq"}, 3: {typ: "PRes"},
		4: {typ: "InqReq"}, 5: {typ: "InqRes"}, 6: {typ: "AuthReq"}, 7: {typ: "AuthRes"},
		10: {typ: "CapReq"}, 11: {typ: "CapRes"}, 999: {typ: "Error"},
		8: {typ: "AuthRevReq"}, 9: {typ: "AuthRevRes"}, 12: {typ: "CapRevReq"}, 13: {typ: "CapRevRes"},
		14: {typ: "CredReq"}, 15: {typ: "CredRes"}, 16: {typ: "CredRevReq"}, 17: {typ: "CredRevRes"},
		18: {typ: "PCertReq"}, 19: {typ: "PCertRes"}, 20: {typ: "BatchAdminReq"}, 21: {typ: "BatchAdminRes"},
		22: {typ: "CardCInitReq"}, 23: {typ: "CardCInitRes"}, 24: {typ: "Me-AqCInitReq"}, 25: {typ: "Me-AqCInitRes"},
		26: {typ: "RegFormReq"}, 27: {typ: "RegFormRes"}, 28: {typ: "CertReq"}, 29: {typ: "CertRes"},
		30: {typ: "CertInqReq"}, 31: {typ: "CertInqRes"},
	}},
	"TransIDs": seq(f("lid-C", "LocalID"), imp(0, "lid-M", "LocalID"), f("xID", "XID"), f("pReqDate", "Date"),
		imp(1, "paySysID", "PaySysID"), f("language", "Language")),
	"CurrencyAmount": seq(f("currency", "INTEGER"), f("amount", "INTEGER"), f("amtExp10", "INTEGER")),
	// CRL distribution (reconstructed; docs/spec-gaps.md)
	"CRLNotificationTBS":    seq(f("date", "Date"), f("thumbs", "Thumbs"), exp(0, "brandCRLIdentifier", "BrandCRLIdentifier")),
	"CRLNotificationResTBS": seq(f("date", "Date"), f("thumbs", "Thumbs")),
	"CertThumb":             seq(f("digestAlgorithm", "AlgorithmIdentifier"), f("thumbprint", "OCTET STRING")),
	"Thumbs": seq(f("digestAlgorithm", "AlgorithmIdentifier"), imp(0, "certThumbs", "Digests"),
		imp(1, "crlThumbs", "Digests"), imp(2, "brandCRLIdThumbs", "Digests")),
	"RRTags":     seq(f("rrpid", "RRPID"), f("merTermIDs", "MerTermIDs"), f("currentDate", "Date")),
	"MerTermIDs": seq(f("merchantID", "MerchantID"), imp(0, "terminalID", "VisibleString"), imp(1, "agentNum", "INTEGER"), imp(2, "chainNum", "INTEGER"), imp(3, "storeNum", "INTEGER")),
	"Error":      {choice: map[uint32]field{0: {typ: "SignedError"}, 1: {typ: "ErrorTBS"}}},
	"ErrorTBS": seq(f("errorCode", "ErrorCode"), f("errorNonce", "Nonce"), imp(0, "errorOID", "OBJECT IDENTIFIER"),
		exp(1, "errorThumb", "CertThumb"), req(exp(2, "errorMsg", "ErrorMsg"))),
	"ErrorMsg": {choice: map[uint32]field{0: {typ: "MessageHeader"}, 1: {typ: "BadWrapper"}}},

	// SetPayMsgs: purchase
	"PInitReq": seq(f("rrpid", "RRPID"), f("language", "Language"), f("localID-C", "LocalID"), imp(0, "localID-M", "LocalID"),
		f("chall-C", "Challenge"), f("brandID", "BrandID"), f("bin", "BIN"), exp(1, "thumbs", "Thumbs"), imp(2, "piRqExtensions", "MsgExtensions")),
	"PInitResData": seq(f("transIDs", "TransIDs"), f("rrpid", "RRPID"), f("chall-C", "Challenge"), f("chall-M", "Challenge"),
		exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"), req(exp(1, "peThumb", "CertThumb")), exp(2, "thumbs", "Thumbs"), imp(3, "piRsExtensions", "MsgExtensions")),
	"PReq":            {choice: map[uint32]field{0: {typ: "PReqDualSigned"}, 1: {typ: "PReqUnsigned"}}},
	"PReqDualSigned":  seq(f("piDualSigned", "PIDualSigned"), f("oiDualSigned", "OIDualSigned")),
	"PIDualSigned":    seq(f("piSignature", "PISignature"), f("exPIData", "EX{P, PI-OILink, PANData}")),
	"PI-TBS":          seq(f("hPIData", "DD{PIData}"), f("hOIData", "DD{OIData}")),
	"PIDualSignedTBE": seq(f("piOILink", "PI-OILink"), f("hPANData", "DD{PANData}")),
	"PI-OILink":       seq(f("piHead", "PIHead"), f("hOIData", "DD{OIData}")),
	"OIDualSigned":    seq(f("oiData", "OIData"), f("hPIData", "DD{PIData}")),
	"PIData":          seq(f("piHead", "PIHead"), optU("panData", "PANData", 16), exp(0, "acctPIData", "AcctPIData")),
	"PANData":         seq(f("pan", "PAN"), f("cardExpiry", "CardExpiry"), f("panSecret", "Secret"), f("exNonce", "Nonce")),
	"PANToken":        seq(f("pan", "PAN"), f("cardExpiry", "CardExpiry"), f("exNonce", "Nonce")),
	"PIHead": seq(f("transIDs", "TransIDs"), f("inputs", "Inputs"), f("merchantID", "MerchantID"), imp(0, "installRecurData", "InstallRecurData"),
		f("transStain", "TransStain"), f("swIdent", "SWIdent"), exp(1, "acqBackKeyData", "BackKeyData"), imp(2, "piExtensions", "MsgExtensions"),
		exp(10, "pgThumb", "CertThumb")),
	"Inputs": seq(f("hod", "HOD"), f("purchAmt", "CurrencyAmount")),
	// InstallRecurData (reconstructed; docs/spec-gaps.md) travels as the
	// contents of an [n] IMPLICIT OCTET STRING. Its installRecurInd
	// CHOICE of [0] IMPLICIT INTEGER and [1] IMPLICIT Recurring is
	// untagged, so each alternative stands as a component here.
	"InstallRecurData": seq(imp(0, "installTotalTrans", "INTEGER"), imp(1, "recurring", "Recurring"), imp(2, "irExtensions", "MsgExtensions")),
	"Recurring":        seq(f("recurringFrequency", "INTEGER"), f("recurringExpiry", "Date")),
	// Bank accounts (reconstructed; msg/account.go). PIData's second
	// component is PIAccount: PANData, or AcctPIData under [0] EXPLICIT.
	// BankAccount's CHOICE ([0] IMPLICIT iban, [1] IMPLICIT domestic) is
	// untagged in AcctPIData, so each alternative stands as a component.
	"PIAccount":       {choice: map[uint32]field{0: {typ: "AcctPIData"}}},
	"AcctPIData":      seq(imp(0, "iban", "PrintableString"), imp(1, "domestic", "DomesticAccount"), f("acctSecret", "Secret"), f("exNonce", "Nonce")),
	"DomesticAccount": seq(f("accountNumber", "VisibleString"), f("routingCode", "VisibleString")),
	"RegFormAcct":     {choice: map[uint32]field{1: {typ: "AcctData"}}},
	"OIData": seq(f("transIDs", "TransIDs"), f("rrpid", "RRPID"), f("chall-C", "Challenge"), f("hod", "HOD"), f("odSalt", "Nonce"),
		imp(0, "chall-M", "Challenge"), f("brandID", "BrandID"), f("bin", "BIN"), imp(1, "odExtOIDs", "ODExtOIDs"), imp(2, "oiExtensions", "MsgExtensions")),
	"HODInput":       seq(f("od", "OD"), f("purchAmt", "CurrencyAmount"), f("odSalt", "Nonce"), imp(0, "installRecurData", "InstallRecurData"), imp(1, "odExtensions", "MsgExtensions")),
	"PReqUnsigned":   seq(f("piUnsigned", "PIUnsigned"), f("oiUnsigned", "OIUnsigned")),
	"OIUnsigned":     seq(f("oiData", "OIData"), f("hPIDataUnsigned", "DD{PIDataUnsigned}")),
	"PIDataUnsigned": seq(f("piHead", "PIHead"), f("panToken", "PANToken")),
	"PI":             {choice: map[uint32]field{0: {typ: "PIUnsigned"}, 1: {typ: "PIDualSigned"}, 2: {typ: "AuthToken"}}},
	"PResData": seq(f("transIDs", "TransIDs"), f("rrpid", "RRPID"), f("chall-C", "Challenge"),
		exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"), f("pResPayloadSeq", "PResPayloadSeq")),
	"PResPayloadSeq": seqOf("PResPayload"),
	"PResPayload": seq(f("completionCode", "CompletionCode"), imp(0, "results", "Results"), imp(1, "pRsExtensions", "MsgExtensions"),
		imp(10, "authResSigned", "S{P, AuthResTBS}")),

	// SetPayMsgs: authorization and capture
	"AuthReq":    seq(f("authReqTBE", "Enc{M, P, AuthReqTBS}"), optU("pi", "PI", 0)),
	"AuthReqTBS": seq(f("authReqData", "AuthReqData"), f("hPI", "DD{PI}")),
	"AuthReqData": seq(f("authReqItem", "AuthReqItem"), exp(0, "mThumbs", "Thumbs"), optU("captureNow", "BOOLEAN", 1),
		imp(1, "saleDetail", "SaleDetail"), exp(10, "pgThumb", "CertThumb"), imp(11, "expiry", "GeneralizedTime")),
	"AuthReqItem":  seq(f("authTags", "AuthTags"), imp(0, "checkDigests", "CheckDigests"), f("authReqPayload", "AuthReqPayload")),
	"AuthTags":     seq(f("authRRTags", "RRTags"), f("transIDs", "TransIDs"), imp(0, "authRetNum", "INTEGER")),
	"CheckDigests": seq(f("hOIData", "DD{OIData}"), f("hod2", "DD{HODInput}")),
	"AuthReqPayload": seq(optU("subsequentAuthInd", "BOOLEAN", 1), f("authReqAmt", "CurrencyAmount"), imp(0, "avsData", "AVSData"),
		imp(1, "specialProcessing", "SpecialProcessing"), imp(2, "cardSuspect", "CardSuspect"), optU("requestCardTypeInd", "BOOLEAN", 1),
		imp(3, "installRecurData", "InstallRecurData"), imp(4, "marketSpecAuthData", "MarketSpecAuthData"), f("merchData", "MerchData"), imp(5, "aRqExtensions", "MsgExtensions")),
	"MerchData":  seq(imp(0, "merchCatCode", "MerchCatCode"), imp(1, "merchGroup", "MerchGroup")),
	"AuthRes":    seq(f("authResTBE", "Enc{P, M, AuthResTBS}"), optU("authResBaggage", "AuthResBaggage", 16)),
	"AuthResTBS": seq(f("authResData", "AuthResData"), optU("hAuthResBaggage", "DD{AuthResBaggage}", 16)),
	"AuthResData": seq(f("authTags", "AuthTags"), exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(1, "peThumb", "CertThumb"),
		f("authResPayload", "AuthResPayload"), exp(10, "merchantThumb", "CertThumb"), imp(11, "hAuthReq", "OCTET STRING")),
	"AuthResPayload": seq(f("authHeader", "AuthHeader"), imp(0, "capResPayload", "CapResPayload"), imp(1, "aRsExtensions", "MsgExtensions")),
	"AuthHeader": seq(f("authAmt", "CurrencyAmount"), f("authCode", "AuthCode"), f("responseData", "ResponseData"),
		imp(0, "batchStatus", "BatchStatus"), imp(1, "currConv", "CurrConv")),
	"AuthResBaggage": seq(exp(0, "capToken", "CapToken"), exp(1, "acqCardMsg", "AcqCardMsg"), exp(2, "authToken", "AuthToken")),
	"CapReq":         seq(f("capReqTBE", "Enc{M, P, CapReqTBS}"), optU("capTokenSeq", "CapTokenSeq", 16)),
	"CapReqTBS":      seq(f("capReqData", "CapReqData"), optU("hCapTokenSeq", "DD{CapTokenSeq}", 16)),
	"CapReqData": seq(f("capRRTags", "RRTags"), exp(0, "mThumbs", "Thumbs"), f("capItemSeq", "CapItemSeq"),
		imp(1, "cRReqResPayloadSeq", "CRReqResPayloadSeq"), imp(2, "cRqExtensions", "MsgExtensions"), exp(10, "pgThumb", "CertThumb"), imp(11, "expiry", "GeneralizedTime")),
	"CapItemSeq": seqOf("CapItem"),
	"CapItem":    seq(f("transIDs", "TransIDs"), f("authRRPID", "RRPID"), f("capPayload", "CapPayload"), imp(0, "cItemExtensions", "MsgExtensions")),
	"CapPayload": seq(f("capDate", "Date"), f("capReqAmt", "CurrencyAmount"), imp(0, "authReqItem", "AuthReqItem"),
		imp(1, "authResPayload", "AuthResPayload"), imp(2, "saleDetail", "SaleDetail"), imp(3, "cPayExtensions", "MsgExtensions")),
	"CapResData": seq(f("capRRTags", "RRTags"), exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(1, "peThumb", "CertThumb"),
		imp(2, "batchStatusSeq", "BatchStatusSeq"), f("capResItemSeq", "CapResItemSeq"), imp(3, "cRsExtensions", "MsgExtensions"),
		exp(10, "merchantThumb", "CertThumb"), imp(11, "hCapReq", "OCTET STRING")),
	"CapResItemSeq": seqOf("CapResItem"),
	"CapResItem":    seq(f("transIDs", "TransIDs"), f("authRRPID", "RRPID"), f("capResPayload", "CapResPayload")),
	"CapResPayload": seq(f("capCode", "CapCode"), f("capAmt", "CurrencyAmount"), imp(0, "batchID", "BatchID"),
		imp(1, "batchSequenceNum", "INTEGER"), imp(2, "cRsPayExtensions", "MsgExtensions")),

	// SetPayMsgs: inquiry, reversals, credit, gateway administration, tokens
	"InqReq":        {choice: map[uint32]field{0: {typ: "S{C, InqReqData}"}, 1: {typ: "InqReqData"}}},
	"InqReqData":    seq(f("transIDs", "TransIDs"), f("rrpid", "RRPID"), f("chall-C2", "Challenge"), imp(0, "inqRqExtensions", "MsgExtensions")),
	"InqRes":        seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"AuthRevReq":    seq(f("authRevReqTBE", "Enc{M, P, AuthRevReqTBS}"), optU("authRevReqBaggage", "AuthRevReqBaggage", 16)),
	"AuthRevReqTBS": seq(f("authRevReqData", "AuthRevReqData"), optU("hAuthRevReqBaggage", "DD{AuthRevReqBaggage}", 16)),
	"AuthRevReqData": seq(f("authRevTags", "AuthRevTags"), exp(0, "mThumbs", "Thumbs"), f("authReqData", "AuthReqData"),
		f("authResPayload", "AuthResPayload"), f("authNewAmt", "CurrencyAmount"), imp(1, "aRvRqExtensions", "MsgExtensions"),
		exp(10, "pgThumb", "CertThumb"), imp(11, "expiry", "GeneralizedTime")),
	"AuthRevTags":       seq(f("authRevRRTags", "RRTags"), f("transIDs", "TransIDs"), imp(0, "authRetNum", "INTEGER")),
	"AuthRevReqBaggage": seq(f("pi", "PI"), exp(3, "capToken", "CapToken")),
	"AuthRevRes":        seq(f("authRevResTBE", "Enc{P, M, AuthRevResTBS}"), optU("authRevResBaggage", "AuthRevResBaggage", 16)),
	"AuthRevResTBS":     seq(f("authRevResData", "AuthRevResData"), optU("hAuthRevResBaggage", "DD{AuthRevResBaggage}", 16)),
	"AuthRevResData": seq(f("authRevTags", "AuthRevTags"), exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(1, "gkThumb", "CertThumb"),
		f("authRevCode", "AuthRevCode"), f("authNewAmt", "CurrencyAmount"), imp(2, "authResPayload", "AuthResPayload"),
		imp(3, "aRvRsExtensions", "MsgExtensions"), exp(10, "merchantThumb", "CertThumb"), imp(11, "hAuthRevReq", "OCTET STRING")),
	"AuthRevResBaggage":  seq(exp(0, "capTokenNew", "CapToken"), exp(1, "authTokenNew", "AuthToken")),
	"CapRevReq":          seq(f("capRevReqTBE", "Enc{M, P, CapRevOrCredReqTBS}"), optU("capTokenSeq", "CapTokenSeq", 16)),
	"CredReq":            seq(f("credReqTBE", "Enc{M, P, CapRevOrCredReqTBS}"), optU("capTokenSeq", "CapTokenSeq", 16)),
	"CredRevReq":         seq(f("credRevReqTBE", "Enc{M, P, CapRevOrCredReqTBS}"), optU("capTokenSeq", "CapTokenSeq", 16)),
	"CapRevRes":          seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"CredRes":            seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"CredRevRes":         seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"CapRevOrCredReqTBS": seq(f("capRevOrCredReqData", "CapRevOrCredReqData"), optU("hCapTokenSeq", "DD{CapTokenSeq}", 16)),
	"CapRevOrCredReqData": seq(f("capRevOrCredRRTags", "RRTags"), exp(0, "mThumbs", "Thumbs"), f("capRevOrCredReqItemSeq", "CapRevOrCredReqItemSeq"),
		imp(1, "cRvRqExtensions", "MsgExtensions"), exp(10, "pgThumb", "CertThumb"), imp(11, "expiry", "GeneralizedTime")),
	"CapRevOrCredReqItemSeq": seqOf("CapRevOrCredReqItem"),
	"CapRevOrCredReqItem": seq(f("transIDs", "TransIDs"), f("authRRPID", "RRPID"), f("capPayload", "CapPayload"), imp(0, "newBatchID", "INTEGER"),
		f("capRevOrCredReqDate", "Date"), exp(1, "capRevOrCredReqAmt", "CurrencyAmount"), optU("newAccountInd", "BOOLEAN", 1),
		imp(2, "cRvRqItemExtensions", "MsgExtensions")),
	"CapRevOrCredResData": seq(f("capRevOrCredRRTags", "RRTags"), exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(1, "peThumb", "CertThumb"),
		imp(2, "batchStatusSeq", "BatchStatusSeq"), f("capRevOrCredResItemSeq", "CapRevOrCredResItemSeq"), imp(3, "cRvRsExtensions", "MsgExtensions"),
		exp(10, "merchantThumb", "CertThumb"), imp(11, "hCapRevOrCredReq", "OCTET STRING")),
	"CapRevOrCredResItemSeq": seqOf("CapRevOrCredResItem"),
	"CapRevOrCredResItem": seq(f("transIDs", "TransIDs"), f("authRRPID", "RRPID"), f("capRevOrCredCode", "CapRevOrCredCode"),
		f("capRevOrCredActualAmt", "CurrencyAmount"), imp(0, "batchID", "INTEGER"), imp(1, "batchSequenceNum", "INTEGER"), imp(2, "cRvRsItemExtensions", "MsgExtensions")),
	"BatchStatusSeq": seqOf("BatchStatus"),
	"BatchStatus": seq(f("batchID", "INTEGER"), f("batchState", "BatchState"), f("openDateTime", "Date"), imp(0, "closeDateTime", "GeneralizedTime"),
		f("captureCount", "INTEGER"), f("captureTotal", "CurrencyAmount"), f("creditCount", "INTEGER"), f("creditTotal", "CurrencyAmount"),
		imp(1, "bStExtensions", "MsgExtensions")),
	"PCertReq": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"PCertReqData": seq(f("pCertRRTags", "RRTags"), exp(0, "mThumbs", "Thumbs"), f("brandAndBINSeq", "BrandAndBINSeq"),
		imp(1, "pCRqExtensions", "MsgExtensions"), exp(10, "pgThumb", "CertThumb"), imp(11, "expiry", "GeneralizedTime")),
	"BrandAndBINSeq": seqOf("BrandAndBIN"),
	"BrandAndBIN":    seq(f("brandID", "BrandID"), optU("bin", "BIN", 18)),
	"PCertRes":       seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"PCertResTBS": seq(f("pCertRRTags", "RRTags"), f("pCertResItemSeq", "PCertResItemSeq"), exp(0, "brandCRLIdentifier", "BrandCRLIdentifier"),
		imp(1, "pCRsExtensions", "MsgExtensions"), exp(10, "merchantThumb", "CertThumb"), imp(11, "hPCertReq", "OCTET STRING")),
	"PCertResItemSeq": seqOf("PCertResItem"),
	"PCertResItem":    seq(f("brandAndBIN", "BrandAndBIN"), f("pCertCode", "PCertCode"), imp(0, "certThumbs", "CertThumbs")),
	"BatchAdminReq":   seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"BatchAdminReqData": seq(f("batchAdminRRTags", "RRTags"), f("batchOperation", "BatchOperation"), imp(0, "batchID", "INTEGER"),
		imp(1, "bARqExtensions", "MsgExtensions"), exp(10, "pgThumb", "CertThumb"), imp(11, "expiry", "GeneralizedTime")),
	"BatchAdminRes": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"BatchAdminResData": seq(f("batchAdminRRTags", "RRTags"), f("batchAdminCode", "BatchAdminCode"), imp(0, "batchID", "INTEGER"),
		exp(1, "batchStatus", "BatchStatus"), imp(2, "bARsExtensions", "MsgExtensions"), exp(10, "merchantThumb", "CertThumb"), imp(11, "hBatchAdminReq", "OCTET STRING")),
	"AuthTokenData": seq(f("transIDs", "TransIDs"), f("purchAmt", "CurrencyAmount"), f("merchantID", "MerchantID"), exp(0, "acqBackKeyData", "BackKeyData"),
		imp(1, "installRecurData", "InstallRecurData"), imp(2, "recurringCount", "INTEGER"), f("prevAuthDateTime", "GeneralizedTime"),
		f("totalAuthAmount", "CurrencyAmount"), f("authTokenOpaque", "OCTET STRING")),
	"CapTokenData": seq(f("authRRPID", "RRPID"), f("authAmt", "CurrencyAmount"), f("tokenOpaque", "OCTET STRING")),

	// SetCertMsgs: certificate management
	"CardCInitReq": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE", "Challenge"), f("brandID", "BrandID"), exp(0, "thumbs", "Thumbs")),
	"CardCInitRes": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"CardCInitResTBS": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE", "Challenge"), imp(0, "lid-CA", "LocalID"),
		req(exp(1, "caeThumb", "CertThumb")), exp(2, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(3, "thumbs", "Thumbs")),
	"Me-AqCInitReq": seq(f("rrpid", "RRPID"), f("localID-EE", "LocalID"), f("chall-EE", "Challenge"), f("requestType", "RequestType"),
		f("idData", "IDData"), f("brandID", "BrandID"), f("language", "Language"), exp(2, "thumbs", "Thumbs")),
	"Me-AqCInitRes": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"Me-AqCInitResTBS": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE", "Challenge"), imp(0, "lid-CA", "LocalID"),
		f("chall-CA", "Challenge"), f("requestType", "RequestType"), f("regFormOrReferral", "RegFormOrReferral"),
		exp(2, "acctDataField", "RegField"), req(exp(3, "caeThumb", "CertThumb")), exp(4, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(5, "thumbs", "Thumbs")),
	"IDData":             {choice: map[uint32]field{0: {typ: "MerchantAcquirerID"}, 1: {typ: "AcquirerID"}}},
	"MerchantAcquirerID": seq(f("merchantBIN", "BIN"), f("merchantID", "MerchantID")),
	"AcquirerID":         seq(f("acquirerBIN", "BIN"), optU("acquirerBusinessID", "AcquirerBusinessID", 18)),
	"RegFormReq":         seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"RegFormReqData": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE2", "Challenge"), imp(0, "lid-CA", "LocalID"),
		f("requestType", "RequestType"), f("language", "Language"), exp(1, "thumbs", "Thumbs")),
	"PANOnly":    seq(f("pan", "PAN"), f("exNonce", "Nonce")),
	"RegFormRes": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"RegFormResTBS": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE2", "Challenge"), imp(0, "lid-CA", "LocalID"),
		f("chall-CA", "Challenge"), exp(1, "caeThumb", "CertThumb"), f("requestType", "RequestType"), f("regFormOrReferral", "RegFormOrReferral"),
		exp(2, "brandCRLIdentifier", "BrandCRLIdentifier"), exp(3, "thumbs", "Thumbs")),
	"RegFormOrReferral": {choice: map[uint32]field{0: {typ: "RegFormData"}, 1: {typ: "ReferralData"}}},
	"RegFormData":       seq(optU("regTemplate", "RegTemplate", 16), f("policy", "PolicyText")),
	"RegTemplate": seq(f("regFormID", "INTEGER"), imp(0, "brandLogoURL", "URL"), imp(1, "cardLogoURL", "URL"),
		f("regFieldSeq", "RegFieldSeq")),
	"RegFieldSeq": seqOf("RegField"),
	"RegField": seq(imp(0, "fieldId", "OBJECT IDENTIFIER"), f("fieldName", "FieldName"), imp(1, "fieldDesc", "FieldDesc"),
		imp(2, "fieldLen", "INTEGER"), imp(3, "fieldRequired", "BOOLEAN"), imp(4, "fieldInvisible", "BOOLEAN"), imp(5, "fieldValue", "FieldValue")),
	"ReferralData":   seq(imp(0, "reason", "VisibleString"), imp(1, "referralURLSeq", "ReferralURLSeq")),
	"ReferralURLSeq": seqOf("URL"),
	"CertReq":        {choice: map[uint32]field{0: {typ: "EncX{EE, CA, CertReqData, AcctInfo}"}, 1: {typ: "Enc{EE, CA, CertReqData}"}}},
	"CertReqData": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE3", "Challenge"), imp(0, "lid-CA", "LocalID"),
		req(imp(1, "chall-CA", "Challenge")), f("requestType", "RequestType"), f("requestDate", "Date"), exp(2, "idData", "IDData"),
		f("regFormID", "INTEGER"), imp(3, "regForm", "RegForm"), exp(4, "caBackKeyData", "BackKeyData"), f("publicKeySorE", "PublicKeySorE"),
		exp(5, "eeThumb", "CertThumb"), exp(6, "thumbs", "Thumbs"), imp(7, "popSignatures", "PoPSignatures"), imp(8, "crqExtensions", "MsgExtensions")),
	"RegForm":                          seqOf("RegFormItems"),
	"RegFormItems":                     seq(f("fieldName", "FieldName"), f("fieldValue", "FieldValue")),
	"BackKeyData":                      seq(f("backAlgID", "AlgorithmIdentifier"), f("backKey", "OCTET STRING")),
	"PublicKeySorE":                    seq(exp(0, "publicKeyS", "SubjectPublicKeyInfo"), exp(1, "publicKeyE", "SubjectPublicKeyInfo")),
	"PoPSignatures":                    seqOf("PoPSignature"),
	"PoPSignature":                     seq(f("popKey", "ENUMERATED"), f("signatureAlgorithm", "AlgorithmIdentifier"), f("signature", "OCTET STRING")),
	"AcctInfo":                         {choice: map[uint32]field{0: {typ: "PANData0"}, 1: {typ: "AcctData"}}},
	"PANData0":                         seq(f("pan", "PAN"), f("cardExpiry", "CardExpiry"), f("cardSecret", "Secret"), f("exNonce", "Nonce")),
	"AcctData":                         seq(f("acctIdentification", "AcctIdentification"), f("exNonce", "Nonce")),
	"CertRes":                          {choice: map[uint32]field{0: {typ: "S{CA, CertResData}"}, 1: {typ: "EncK{CABackKey, CA, CertResData}"}}},
	"CertInqRes":                       {choice: map[uint32]field{0: {typ: "S{CA, CertResData}"}, 1: {typ: "EncK{CABackKey, CA, CertResData}"}}},
	"EncK{CABackKey, CA, CertResData}": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"CertResData": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE3", "Challenge"), imp(0, "lid-CA", "LocalID"),
		f("certStatus", "CertStatus"), imp(1, "certThumbs", "CertThumbs"), exp(2, "brandCRLIdentifier", "BrandCRLIdentifier"),
		exp(3, "thumbs", "Thumbs"), imp(4, "crsExtensions", "MsgExtensions")),
	"CertThumbs": seqOf("CertThumb"),
	"CertStatus": seq(f("certStatusCode", "CertStatusCode"), imp(0, "nonceCCA", "Nonce"), imp(1, "eeMessage", "VisibleString"),
		imp(2, "caMsg", "CAMsg"), imp(3, "failedItemSeq", "FailedItemSeq")),
	"CAMsg": seq(imp(0, "cardLogoURL", "URL"), imp(1, "brandLogoURL", "URL"), imp(2, "cardCurrency", "Currency"),
		imp(3, "cardholderMsg", "VisibleString")),
	"FailedItemSeq": seqOf("FailedItem"),
	"FailedItem":    seq(f("itemNumber", "INTEGER"), f("itemReason", "VisibleString")),
	"CertInqReq":    seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"CertInqReqTBS": seq(f("rrpid", "RRPID"), f("lid-EE", "LocalID"), f("chall-EE3", "Challenge"), imp(0, "lid-CA", "LocalID"), exp(1, "thumbs", "Thumbs")),
	// The signed BCI pki issues (docs/spec-gaps.md, "BrandCRLIdentifier").
	"BrandCRLIdentifier": seq(f("unsignedBrandCRLIdentifier", "UnsignedBrandCRLIdentifier"), f("signatureAlgorithm", "AlgorithmIdentifier"),
		f("signature", "BIT STRING")),
	"UnsignedBrandCRLIdentifier": seq(f("version", "INTEGER"), f("sequenceNum", "INTEGER"), f("brandID", "BrandID"), f("notBefore", "GeneralizedTime"),
		f("notAfter", "GeneralizedTime"), f("crlIdentifierSeq", "CRLIdentifierSeq")),
	"CRLIdentifierSeq": seqOf("CRLIdentifier"),
	"CRLIdentifier":    seq(f("issuerThumb", "OCTET STRING"), f("crlNumber", "INTEGER")),

	// PKCS#7 / CMS
	"ContentInfo": seq(f("contentType", "ContentType"), req(exp(0, "content", "ANY"))),
	"SignedData": seq(f("version", "CMSVersion"), f("digestAlgorithms", "DigestAlgorithmIdentifiers"), f("encapContentInfo", "EncapsulatedContentInfo"),
		imp(0, "certificates", "CertificateSet"), imp(1, "crls", "RevocationInfoChoices"), f("signerInfos", "SignerInfos")),
	"EncapsulatedContentInfo":    seq(f("eContentType", "ContentType"), exp(0, "eContent", "ANY")),
	"DigestAlgorithmIdentifiers": seqOf("AlgorithmIdentifier"),
	"CertificateSet":             seqOf("Certificate"),
	"SignerInfos":                seqOf("SignerInfo"),
	"SignerInfo": seq(f("version", "CMSVersion"), f("sid", "SignerIdentifier"), f("digestAlgorithm", "AlgorithmIdentifier"),
		imp(0, "signedAttrs", "SignedAttributes"), f("signatureAlgorithm", "AlgorithmIdentifier"), f("signature", "OCTET STRING"), imp(1, "unsignedAttrs", "UnsignedAttributes")),
	"SignedAttributes":    seqOf("Attribute"),
	"Attribute":           seq(f("attrType", "OBJECT IDENTIFIER"), f("attrValues", "SET OF AttributeValue")),
	"AlgorithmIdentifier": seq(f("algorithm", "OBJECT IDENTIFIER"), optU("parameters", "ANY", 0)),
	"DigestedData": seq(f("version", "CMSVersion"), f("digestAlgorithm", "AlgorithmIdentifier"), f("encapContentInfo", "EncapsulatedContentInfo"),
		f("digest", "OCTET STRING")),
	"EnvelopedData": seq(f("version", "CMSVersion"), imp(0, "originatorInfo", "OriginatorInfo"), f("recipientInfos", "RecipientInfos"),
		f("encryptedContentInfo", "EncryptedContentInfo"), imp(1, "unprotectedAttrs", "UnprotectedAttributes")),
	"AuthEnvelopedData": seq(f("version", "CMSVersion"), imp(0, "originatorInfo", "OriginatorInfo"), f("recipientInfos", "RecipientInfos"),
		f("authEncryptedContentInfo", "EncryptedContentInfo"), imp(1, "authAttrs", "AuthAttributes"), f("mac", "MessageAuthenticationCode"), imp(2, "unauthAttrs", "UnauthAttributes")),
	"RecipientInfos": seqOf("RecipientInfo"),
	"EncryptedContentInfo": seq(f("contentType", "ContentType"), f("contentEncryptionAlgorithm", "AlgorithmIdentifier"),
		imp(0, "encryptedContent", "EncryptedContent")),

	// X.509
	"Certificate": seq(f("tbsCertificate", "TBSCertificate"), f("signatureAlgorithm", "AlgorithmIdentifier"), f("signature", "BIT STRING")),
	"TBSCertificate": seq(exp(0, "version", "Version"), f("serialNumber", "CertificateSerialNumber"), f("signature", "AlgorithmIdentifier"),
		f("issuer", "Name"), f("validity", "Validity"), f("subject", "Name"), f("subjectPublicKeyInfo", "SubjectPublicKeyInfo"),
		imp(1, "issuerUniqueID", "UniqueIdentifier"), imp(2, "subjectUniqueID", "UniqueIdentifier"), exp(3, "extensions", "Extensions")),
	"Validity":             seq(f("notBefore", "Time"), f("notAfter", "Time")),
	"SubjectPublicKeyInfo": seq(f("algorithm", "AlgorithmIdentifier"), f("subjectPublicKey", "BIT STRING")),
	"Extensions":           seqOf("Extension"),
	"Extension":            seq(f("extnID", "OBJECT IDENTIFIER"), optU("critical", "BOOLEAN", 1), f("extnValue", "OCTET STRING")),
	"CertificateList":      seq(f("tbsCertList", "TBSCertList"), f("signatureAlgorithm", "AlgorithmIdentifier"), f("signature", "BIT STRING")),
}

// schemaOf returns the schema for a type name. SET's operator types
// (DD{}, S{}, Enc{} …) and the opaque blobs messages carry are PKCS#7
// ContentInfos on the wire.
func schemaOf(typ string) schema {
	if s, ok := schemas[typ]; ok {
		return s
	}
	for _, prefix := range []string{"DD{", "S{", "SO{", "E{", "EH{", "EX{", "EXH{", "Enc{", "EncB{", "EncX{"} {
		if strings.HasPrefix(typ, prefix) {
			return schemas["ContentInfo"]
		}
	}
	switch typ {
	case "PInitRes", "PRes", "PISignature", "PIUnsigned", "HOD", "SignedError", "CapToken", "AuthToken":
		return schemas["ContentInfo"]
	}
	return schema{}
}
