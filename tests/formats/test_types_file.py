from spert_mt_plugin.formats.types_file import EntityRelationTypes
from tests.conftest import FIXTURES

CONF = str(FIXTURES / "brat" / "annotation.conf")


def test_annotation_conf_is_a_types_file():
    types = EntityRelationTypes.from_file(CONF)
    assert types.entity_types == ["Person", "Organization", "Location"]
    assert types.relation_types == ["Works_For", "Located_In", "Married_To"]
    assert types.symmetric_relations == {"Married_To"}
