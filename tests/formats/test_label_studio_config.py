import pytest

from spert_mt_plugin.formats.label_studio_config import LabelingConfigError, TagMapping, tag_mapping

ENTITIES = ["Person", "Organization", "Location"]
RELATIONS = ["Works_For", "Located_In", "Married_To"]

CONFIG = """
<View>
  <Relations><Relation value="Works_For"/><Relation value="Kills"/></Relations>
  <Choices name="mood" toName="body"><Choice value="ok"/></Choices>
  <Labels name="ents" toName="body"><Label value="Person"/><Label value="Organization"/><Label value="Misc"/></Labels>
  <Text name="body" value="$article"/>
</View>
"""


def test_the_mapping_names_the_tags_the_data_key_and_the_shared_types():
    assert tag_mapping(CONFIG, ENTITIES, RELATIONS) == TagMapping(
        from_name="ents",
        to_name="body",
        data_key="article",
        entity_types=("Person", "Organization"),
        relation_types=("Works_For",),
    )


def test_of_several_labels_tags_the_one_with_most_known_labels_is_taken():
    config = """<View>
      <Relations><Relation value="Married_To"/></Relations>
      <Labels name="pos" toName="t"><Label value="Noun"/></Labels>
      <Labels name="ner" toName="t"><Label value="Location"/></Labels>
      <Text name="t" value="$text"/></View>"""
    mapping = tag_mapping(config, ENTITIES, RELATIONS)
    assert (mapping.from_name, mapping.entity_types, mapping.relation_types) == ("ner", ("Location",), ("Married_To",))


@pytest.mark.parametrize(
    "config, message",
    [
        ("", "no labeling config was sent"),
        ("<View><Text", "the labeling config is not XML: unclosed token: line 1, column 6"),
        (
            '<View><Choices name="c" toName="t"/><Text name="t" value="$text"/></View>',
            "no <Labels> tag on a <Text> tag",
        ),
        (
            '<View><Labels name="l" toName="t"><Label value="Noun"/></Labels><Text name="t" value="$text"/></View>',
            "none of the labeling config's labels (Noun) is an entity type of the model "
            "(Person, Organization, Location)",
        ),
        (
            '<View><Labels name="l" toName="t"><Label value="Person"/></Labels><Text name="t" value="$text"/></View>',
            "the labeling config has no <Relation>, none of them a relation type of the model "
            "(Works_For, Located_In, Married_To)",
        ),
        (
            '<View><Relations><Relation value="Likes"/></Relations><Labels name="l" toName="t"><Label value="Person"/>'
            '</Labels><Text name="t" value="$text"/></View>',
            "the labeling config has relations Likes, none of them a relation type of the model",
        ),
        (
            '<View><Relations><Relation value="Works_For"/></Relations><Labels name="l" toName="t">'
            '<Label value="Person"/></Labels><Text name="t" value="fixed text"/></View>',
            "the <Text> tag 't' shows 'fixed text', not a task's data key",
        ),
    ],
)
def test_configs_the_model_cannot_predict_for_get_a_one_line_error(config, message):
    with pytest.raises(LabelingConfigError) as error:
        tag_mapping(config, ENTITIES, RELATIONS)
    assert message in str(error.value) and "\n" not in str(error.value)
