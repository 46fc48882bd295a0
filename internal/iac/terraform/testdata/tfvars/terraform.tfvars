partner   = "444455556666"
principal = "111122223333"
