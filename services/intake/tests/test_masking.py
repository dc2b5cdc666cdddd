from forbear_intake.domain.masking import mask_name, mask_national_id, mask_phone


def test_a_national_id_keeps_its_region_prefix_and_last_four_digits():
    assert mask_national_id("310101199001011234") == "3101**********1234"
    assert mask_national_id("3101199001011234") == "3101********1234"


def test_a_phone_keeps_its_carrier_prefix_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"


def test_a_name_keeps_only_the_family_name():
    assert mask_name("王小明") == "王**"


def test_short_values_are_masked_entirely_and_missing_values_stay_missing():
    assert mask_national_id("1234") == "****"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) is None and mask_national_id(None) is None and mask_name(None) is None
