package marketdata

type fixEntryTypes uint8

type fixSessionKey string
