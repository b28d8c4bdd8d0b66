package msg

// The SET content types (arc 2.23.42.0, setct-*) from
// the public OID registry (spec/oids.tsv). encap puts them in the
// contentType of the PKCS#7 structures that carry SET data.

import "encoding/asn1"

// SET content types.
var (
	OIDPANData               = asn1.ObjectIdentifier{2, 23, 42, 0, 0}
	OIDPANToken              = asn1.ObjectIdentifier{2, 23, 42, 0, 1}
	OIDPANOnly               = asn1.ObjectIdentifier{2, 23, 42, 0, 2}
	OIDOIData                = asn1.ObjectIdentifier{2, 23, 42, 0, 3}
	OIDPI                    = asn1.ObjectIdentifier{2, 23, 42, 0, 4}
	OIDPIData                = asn1.ObjectIdentifier{2, 23, 42, 0, 5}
	OIDPIDataUnsigned        = asn1.ObjectIdentifier{2, 23, 42, 0, 6}
	OIDHODInput              = asn1.ObjectIdentifier{2, 23, 42, 0, 7}
	OIDAuthResBaggage        = asn1.ObjectIdentifier{2, 23, 42, 0, 8}
	OIDAuthRevReqBaggage     = asn1.ObjectIdentifier{2, 23, 42, 0, 9}
	OIDAuthRevResBaggage     = asn1.ObjectIdentifier{2, 23, 42, 0, 10}
	OIDCapTokenSeq           = asn1.ObjectIdentifier{2, 23, 42, 0, 11}
	OIDPInitResData          = asn1.ObjectIdentifier{2, 23, 42, 0, 12}
	OIDPITBS                 = asn1.ObjectIdentifier{2, 23, 42, 0, 13}
	OIDPResData              = asn1.ObjectIdentifier{2, 23, 42, 0, 14}
	OIDAuthReqTBS            = asn1.ObjectIdentifier{2, 23, 42, 0, 16}
	OIDAuthResTBS            = asn1.ObjectIdentifier{2, 23, 42, 0, 17}
	OIDAuthResTBSX           = asn1.ObjectIdentifier{2, 23, 42, 0, 18}
	OIDAuthTokenTBS          = asn1.ObjectIdentifier{2, 23, 42, 0, 19}
	OIDCapTokenData          = asn1.ObjectIdentifier{2, 23, 42, 0, 20}
	OIDCapTokenTBS           = asn1.ObjectIdentifier{2, 23, 42, 0, 21}
	OIDAcqCardCodeMsg        = asn1.ObjectIdentifier{2, 23, 42, 0, 22}
	OIDAuthRevReqTBS         = asn1.ObjectIdentifier{2, 23, 42, 0, 23}
	OIDAuthRevResData        = asn1.ObjectIdentifier{2, 23, 42, 0, 24}
	OIDAuthRevResTBS         = asn1.ObjectIdentifier{2, 23, 42, 0, 25}
	OIDCapReqTBS             = asn1.ObjectIdentifier{2, 23, 42, 0, 26}
	OIDCapReqTBSX            = asn1.ObjectIdentifier{2, 23, 42, 0, 27}
	OIDCapResData            = asn1.ObjectIdentifier{2, 23, 42, 0, 28}
	OIDCapRevReqTBS          = asn1.ObjectIdentifier{2, 23, 42, 0, 29}
	OIDCapRevReqTBSX         = asn1.ObjectIdentifier{2, 23, 42, 0, 30}
	OIDCapRevResData         = asn1.ObjectIdentifier{2, 23, 42, 0, 31}
	OIDCredReqTBS            = asn1.ObjectIdentifier{2, 23, 42, 0, 32}
	OIDCredReqTBSX           = asn1.ObjectIdentifier{2, 23, 42, 0, 33}
	OIDCredResData           = asn1.ObjectIdentifier{2, 23, 42, 0, 34}
	OIDCredRevReqTBS         = asn1.ObjectIdentifier{2, 23, 42, 0, 35}
	OIDCredRevReqTBSX        = asn1.ObjectIdentifier{2, 23, 42, 0, 36}
	OIDCredRevResData        = asn1.ObjectIdentifier{2, 23, 42, 0, 37}
	OIDPCertReqData          = asn1.ObjectIdentifier{2, 23, 42, 0, 38}
	OIDPCertResTBS           = asn1.ObjectIdentifier{2, 23, 42, 0, 39}
	OIDBatchAdminReqData     = asn1.ObjectIdentifier{2, 23, 42, 0, 40}
	OIDBatchAdminResData     = asn1.ObjectIdentifier{2, 23, 42, 0, 41}
	OIDCardCInitResTBS       = asn1.ObjectIdentifier{2, 23, 42, 0, 42}
	OIDMeAqCInitResTBS       = asn1.ObjectIdentifier{2, 23, 42, 0, 43}
	OIDRegFormResTBS         = asn1.ObjectIdentifier{2, 23, 42, 0, 44}
	OIDCertReqData           = asn1.ObjectIdentifier{2, 23, 42, 0, 45}
	OIDCertReqTBS            = asn1.ObjectIdentifier{2, 23, 42, 0, 46}
	OIDCertResData           = asn1.ObjectIdentifier{2, 23, 42, 0, 47}
	OIDCertInqReqTBS         = asn1.ObjectIdentifier{2, 23, 42, 0, 48}
	OIDErrorTBS              = asn1.ObjectIdentifier{2, 23, 42, 0, 49}
	OIDPIDualSignedTBE       = asn1.ObjectIdentifier{2, 23, 42, 0, 50}
	OIDPIUnsignedTBE         = asn1.ObjectIdentifier{2, 23, 42, 0, 51}
	OIDAuthReqTBE            = asn1.ObjectIdentifier{2, 23, 42, 0, 52}
	OIDAuthResTBE            = asn1.ObjectIdentifier{2, 23, 42, 0, 53}
	OIDAuthResTBEX           = asn1.ObjectIdentifier{2, 23, 42, 0, 54}
	OIDAuthTokenTBE          = asn1.ObjectIdentifier{2, 23, 42, 0, 55}
	OIDCapTokenTBE           = asn1.ObjectIdentifier{2, 23, 42, 0, 56}
	OIDCapTokenTBEX          = asn1.ObjectIdentifier{2, 23, 42, 0, 57}
	OIDAcqCardCodeMsgTBE     = asn1.ObjectIdentifier{2, 23, 42, 0, 58}
	OIDAuthRevReqTBE         = asn1.ObjectIdentifier{2, 23, 42, 0, 59}
	OIDAuthRevResTBE         = asn1.ObjectIdentifier{2, 23, 42, 0, 60}
	OIDAuthRevResTBEB        = asn1.ObjectIdentifier{2, 23, 42, 0, 61}
	OIDCapReqTBE             = asn1.ObjectIdentifier{2, 23, 42, 0, 62}
	OIDCapReqTBEX            = asn1.ObjectIdentifier{2, 23, 42, 0, 63}
	OIDCapResTBE             = asn1.ObjectIdentifier{2, 23, 42, 0, 64}
	OIDCapRevReqTBE          = asn1.ObjectIdentifier{2, 23, 42, 0, 65}
	OIDCapRevReqTBEX         = asn1.ObjectIdentifier{2, 23, 42, 0, 66}
	OIDCapRevResTBE          = asn1.ObjectIdentifier{2, 23, 42, 0, 67}
	OIDCredReqTBE            = asn1.ObjectIdentifier{2, 23, 42, 0, 68}
	OIDCredReqTBEX           = asn1.ObjectIdentifier{2, 23, 42, 0, 69}
	OIDCredResTBE            = asn1.ObjectIdentifier{2, 23, 42, 0, 70}
	OIDCredRevReqTBE         = asn1.ObjectIdentifier{2, 23, 42, 0, 71}
	OIDCredRevReqTBEX        = asn1.ObjectIdentifier{2, 23, 42, 0, 72}
	OIDCredRevResTBE         = asn1.ObjectIdentifier{2, 23, 42, 0, 73}
	OIDBatchAdminReqTBE      = asn1.ObjectIdentifier{2, 23, 42, 0, 74}
	OIDBatchAdminResTBE      = asn1.ObjectIdentifier{2, 23, 42, 0, 75}
	OIDRegFormReqTBE         = asn1.ObjectIdentifier{2, 23, 42, 0, 76}
	OIDCertReqTBE            = asn1.ObjectIdentifier{2, 23, 42, 0, 77}
	OIDCertReqTBEX           = asn1.ObjectIdentifier{2, 23, 42, 0, 78}
	OIDCertResTBE            = asn1.ObjectIdentifier{2, 23, 42, 0, 79}
	OIDCRLNotificationTBS    = asn1.ObjectIdentifier{2, 23, 42, 0, 80}
	OIDCRLNotificationResTBS = asn1.ObjectIdentifier{2, 23, 42, 0, 81}
	OIDBCIDistributionTBS    = asn1.ObjectIdentifier{2, 23, 42, 0, 82}
)

var contentTypeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{OIDPANData, "setct-PANData"},
	{OIDPANToken, "setct-PANToken"},
	{OIDPANOnly, "setct-PANOnly"},
	{OIDOIData, "setct-OIData"},
	{OIDPI, "setct-PI"},
	{OIDPIData, "setct-PIData"},
	{OIDPIDataUnsigned, "setct-PIDataUnsigned"},
	{OIDHODInput, "setct-HODInput"},
	{OIDAuthResBaggage, "setct-AuthResBaggage"},
	{OIDAuthRevReqBaggage, "setct-AuthRevReqBaggage"},
	{OIDAuthRevResBaggage, "setct-AuthRevResBaggage"},
	{OIDCapTokenSeq, "setct-CapTokenSeq"},
	{OIDPInitResData, "setct-PInitResData"},
	{OIDPITBS, "setct-PI-TBS"},
	{OIDPResData, "setct-PResData"},
	{OIDAuthReqTBS, "setct-AuthReqTBS"},
	{OIDAuthResTBS, "setct-AuthResTBS"},
	{OIDAuthResTBSX, "setct-AuthResTBSX"},
	{OIDAuthTokenTBS, "setct-AuthTokenTBS"},
	{OIDCapTokenData, "setct-CapTokenData"},
	{OIDCapTokenTBS, "setct-CapTokenTBS"},
	{OIDAcqCardCodeMsg, "setct-AcqCardCodeMsg"},
	{OIDAuthRevReqTBS, "setct-AuthRevReqTBS"},
	{OIDAuthRevResData, "setct-AuthRevResData"},
	{OIDAuthRevResTBS, "setct-AuthRevResTBS"},
	{OIDCapReqTBS, "setct-CapReqTBS"},
	{OIDCapReqTBSX, "setct-CapReqTBSX"},
	{OIDCapResData, "setct-CapResData"},
	{OIDCapRevReqTBS, "setct-CapRevReqTBS"},
	{OIDCapRevReqTBSX, "setct-CapRevReqTBSX"},
	{OIDCapRevResData, "setct-CapRevResData"},
	{OIDCredReqTBS, "setct-CredReqTBS"},
	{OIDCredReqTBSX, "setct-CredReqTBSX"},
	{OIDCredResData, "setct-CredResData"},
	{OIDCredRevReqTBS, "setct-CredRevReqTBS"},
	{OIDCredRevReqTBSX, "setct-CredRevReqTBSX"},
	{OIDCredRevResData, "setct-CredRevResData"},
	{OIDPCertReqData, "setct-PCertReqData"},
	{OIDPCertResTBS, "setct-PCertResTBS"},
	{OIDBatchAdminReqData, "setct-BatchAdminReqData"},
	{OIDBatchAdminResData, "setct-BatchAdminResData"},
	{OIDCardCInitResTBS, "setct-CardCInitResTBS"},
	{OIDMeAqCInitResTBS, "setct-MeAqCInitResTBS"},
	{OIDRegFormResTBS, "setct-RegFormResTBS"},
	{OIDCertReqData, "setct-CertReqData"},
	{OIDCertReqTBS, "setct-CertReqTBS"},
	{OIDCertResData, "setct-CertResData"},
	{OIDCertInqReqTBS, "setct-CertInqReqTBS"},
	{OIDErrorTBS, "setct-ErrorTBS"},
	{OIDPIDualSignedTBE, "setct-PIDualSignedTBE"},
	{OIDPIUnsignedTBE, "setct-PIUnsignedTBE"},
	{OIDAuthReqTBE, "setct-AuthReqTBE"},
	{OIDAuthResTBE, "setct-AuthResTBE"},
	{OIDAuthResTBEX, "setct-AuthResTBEX"},
	{OIDAuthTokenTBE, "setct-AuthTokenTBE"},
	{OIDCapTokenTBE, "setct-CapTokenTBE"},
	{OIDCapTokenTBEX, "setct-CapTokenTBEX"},
	{OIDAcqCardCodeMsgTBE, "setct-AcqCardCodeMsgTBE"},
	{OIDAuthRevReqTBE, "setct-AuthRevReqTBE"},
	{OIDAuthRevResTBE, "setct-AuthRevResTBE"},
	{OIDAuthRevResTBEB, "setct-AuthRevResTBEB"},
	{OIDCapReqTBE, "setct-CapReqTBE"},
	{OIDCapReqTBEX, "setct-CapReqTBEX"},
	{OIDCapResTBE, "setct-CapResTBE"},
	{OIDCapRevReqTBE, "setct-CapRevReqTBE"},
	{OIDCapRevReqTBEX, "setct-CapRevReqTBEX"},
	{OIDCapRevResTBE, "setct-CapRevResTBE"},
	{OIDCredReqTBE, "setct-CredReqTBE"},
	{OIDCredReqTBEX, "setct-CredReqTBEX"},
	{OIDCredResTBE, "setct-CredResTBE"},
	{OIDCredRevReqTBE, "setct-CredRevReqTBE"},
	{OIDCredRevReqTBEX, "setct-CredRevReqTBEX"},
	{OIDCredRevResTBE, "setct-CredRevResTBE"},
	{OIDBatchAdminReqTBE, "setct-BatchAdminReqTBE"},
	{OIDBatchAdminResTBE, "setct-BatchAdminResTBE"},
	{OIDRegFormReqTBE, "setct-RegFormReqTBE"},
	{OIDCertReqTBE, "setct-CertReqTBE"},
	{OIDCertReqTBEX, "setct-CertReqTBEX"},
	{OIDCertResTBE, "setct-CertResTBE"},
	{OIDCRLNotificationTBS, "setct-CRLNotificationTBS"},
	{OIDCRLNotificationResTBS, "setct-CRLNotificationResTBS"},
	{OIDBCIDistributionTBS, "setct-BCIDistributionTBS"},
}

// ContentTypeName returns the registry name of a SET content type
// ("setct-PIDualSignedTBE"), or "" when oid is not one.
func ContentTypeName(oid asn1.ObjectIdentifier) string {
	for _, e := range contentTypeNames {
		if e.oid.Equal(oid) {
			return e.name
		}
	}
	return ""
}
