# ruff: noqa  (a part of notebook 11: ruff checks the assembled notebook)
# %% [markdown]
# ## 5. The LLM writes the prompt
#
# > TODO(t2i-prompt): this section is built on branch `t2i-prompt` (issue 13,
# > deliver item 4): the shipped GPT, fine-tuned or prompted, turns a request
# > such as "something for the beach" into a caption, and the image model
# > above draws that caption. Its cells replace this stub when that branch is
# > merged.

# %%
# TODO(t2i-prompt): the request -> caption -> image cells go here.
print("Section 5 is a placeholder until branch t2i-prompt is merged.")
